package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/agentphone/agentphone/callcenter"
)

// This file implements Inbound: the tables of migration 0002.

// MaxKeyLen bounds the names of groups, IVR menus and custom statuses.
const MaxKeyLen = 32

// validKey checks the name of a group, menu or custom status. Names are keys
// typed on the admin command line and shown in logs, hence plain ASCII.
func validKey(kind, s string) error {
	if s == "" {
		return fmt.Errorf("%w: %s name is empty", callcenter.ErrInvalid, kind)
	}
	if len(s) > MaxKeyLen {
		return fmt.Errorf("%w: %s name %q is longer than %d characters", callcenter.ErrInvalid, kind, s, MaxKeyLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c == '-' || c == '.') {
			return fmt.Errorf("%w: %s name %q may only hold letters, digits, '_', '-' and '.'", callcenter.ErrInvalid, kind, s)
		}
	}
	return nil
}

func nonNegative(what string, d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("%w: negative %s %s", callcenter.ErrInvalid, what, d)
	}
	return nil
}

// inTx runs fn in one write transaction (IMMEDIATE, see SQLite), so checks
// and the write they guard see the same data.
func (s *SQLite) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// exists returns ErrNotFound naming kind and key when no row of table has
// col = key. table and col are constants of this file, never input.
func exists(ctx context.Context, q queryer, kind, table, col, key string) error {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM `+table+` WHERE `+col+` = ?`, key).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s %q: %w", kind, key, callcenter.ErrNotFound)
	}
	return err
}

// routeTargetsExist checks the non-empty route targets of a number.
func routeTargetsExist(ctx context.Context, q queryer, ivr, group, agent string) error {
	for _, t := range []struct{ kind, table, col, key string }{
		{"route IVR menu", "ivr_menus", "name", ivr},
		{"route group", "skill_groups", "name", group},
		{"route agent", "agents", "work_number", agent},
	} {
		if t.key == "" {
			continue
		}
		if err := exists(ctx, q, t.kind, t.table, t.col, t.key); err != nil {
			return err
		}
	}
	return nil
}

// ---- skill groups

const groupCols = `id, name, label, strategy, ring_timeout, max_wait, overflow, overflow_group, acw, acw_duration, tier_widen, announce_every, ivr`

func scanGroup(sc scanner) (callcenter.SkillGroup, error) {
	var (
		g                  callcenter.SkillGroup
		strategy, overflow string
		ovGroup, ivr       sql.NullString
	)
	if err := sc.Scan(&g.ID, &g.Name, &g.Label, &strategy, &g.RingTimeout, &g.MaxWait, &overflow, &ovGroup,
		&g.ACW, &g.ACWDuration, &g.TierWiden, &g.AnnounceEvery, &ivr); err != nil {
		return g, err
	}
	g.OverflowGroup, g.IVR = ovGroup.String, ivr.String
	var err error
	if g.Strategy, err = callcenter.ParseStrategy(strategy); err != nil {
		return g, fmt.Errorf("group %q: stored %w", g.Name, err)
	}
	if g.Overflow, err = callcenter.ParseOverflowKind(overflow); err != nil {
		return g, fmt.Errorf("group %q: stored %w", g.Name, err)
	}
	return g, nil
}

// checkGroup validates g and fills the defaults the store documents.
func checkGroup(g *callcenter.SkillGroup) error {
	if err := validKey("group", g.Name); err != nil {
		return err
	}
	if g.Label == "" {
		g.Label = g.Name
	}
	if err := callcenter.ValidateName(g.Label); err != nil {
		return fmt.Errorf("label: %w", err)
	}
	if g.Strategy.String() == "unknown" {
		return fmt.Errorf("%w: strategy %d", callcenter.ErrInvalid, g.Strategy)
	}
	if g.Overflow < callcenter.OverflowNone || g.Overflow > callcenter.OverflowVoicemail {
		return fmt.Errorf("%w: overflow %d", callcenter.ErrInvalid, g.Overflow)
	}
	switch {
	case g.Overflow == callcenter.OverflowGroup && g.OverflowGroup == "":
		return fmt.Errorf("%w: overflow to a group needs the overflow group", callcenter.ErrInvalid)
	case g.Overflow != callcenter.OverflowGroup && g.OverflowGroup != "":
		return fmt.Errorf("%w: overflow group %q set but overflow is %s", callcenter.ErrInvalid, g.OverflowGroup, g.Overflow)
	case g.OverflowGroup == g.Name:
		// A caller would wait forever, overflowing into the same queue.
		return fmt.Errorf("%w: group %q overflows to itself", callcenter.ErrInvalid, g.Name)
	}
	return errors.Join(
		nonNegative("ring timeout", g.RingTimeout),
		nonNegative("max wait", g.MaxWait),
		nonNegative("ACW duration", g.ACWDuration),
		nonNegative("tier widening", g.TierWiden),
		nonNegative("announce interval", g.AnnounceEvery),
	)
}

// groupRefsExist checks the group's overflow group and IVR menu.
func groupRefsExist(ctx context.Context, q queryer, g callcenter.SkillGroup) error {
	if g.OverflowGroup != "" {
		if err := exists(ctx, q, "overflow group", "skill_groups", "name", g.OverflowGroup); err != nil {
			return err
		}
	}
	if g.IVR != "" {
		if err := exists(ctx, q, "IVR menu", "ivr_menus", "name", g.IVR); err != nil {
			return err
		}
	}
	return nil
}

func groupArgs(g callcenter.SkillGroup) []any {
	return []any{g.Label, g.Strategy.String(), int64(g.RingTimeout), int64(g.MaxWait), g.Overflow.String(),
		nullString(g.OverflowGroup), g.ACW, int64(g.ACWDuration), int64(g.TierWiden), int64(g.AnnounceEvery),
		nullString(g.IVR), g.Name}
}

// CreateGroup implements Inbound.
func (s *SQLite) CreateGroup(ctx context.Context, g callcenter.SkillGroup) (callcenter.SkillGroup, error) {
	what := fmt.Sprintf("create group %q", g.Name)
	if err := checkGroup(&g); err != nil {
		return g, fmt.Errorf("%s: %w", what, err)
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := groupRefsExist(ctx, tx, g); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `INSERT INTO skill_groups
			(label, strategy, ring_timeout, max_wait, overflow, overflow_group, acw, acw_duration, tier_widen, announce_every, ivr, name)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, groupArgs(g)...).Scan(&g.ID)
	})
	if err != nil {
		return g, dbErr(what, err)
	}
	return g, nil
}

// UpdateGroup implements Inbound.
func (s *SQLite) UpdateGroup(ctx context.Context, g callcenter.SkillGroup) error {
	what := fmt.Sprintf("update group %q", g.Name)
	if err := checkGroup(&g); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := exists(ctx, tx, "group", "skill_groups", "name", g.Name); err != nil {
			return err
		}
		if err := groupRefsExist(ctx, tx, g); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE skill_groups SET label = ?, strategy = ?, ring_timeout = ?,
			max_wait = ?, overflow = ?, overflow_group = ?, acw = ?, acw_duration = ?, tier_widen = ?,
			announce_every = ?, ivr = ? WHERE name = ?`, groupArgs(g)...)
		return err
	})
	if err != nil {
		return dbErr(what, err)
	}
	return nil
}

// GroupByName implements Inbound.
func (s *SQLite) GroupByName(ctx context.Context, name string) (callcenter.SkillGroup, error) {
	g, err := scanGroup(s.r.QueryRowContext(ctx, `SELECT `+groupCols+` FROM skill_groups WHERE name = ?`, name))
	if err != nil {
		return g, dbErr(fmt.Sprintf("group %q", name), err)
	}
	return g, nil
}

// ListGroups implements Inbound.
func (s *SQLite) ListGroups(ctx context.Context) ([]callcenter.SkillGroup, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+groupCols+` FROM skill_groups ORDER BY name`)
	return scanAll("list groups", rows, err, scanGroup)
}

// scanAll reads every row with scan, closing rows.
func scanAll[T any](what string, rows *sql.Rows, err error, scan func(scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, dbErr(what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, dbErr(what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr(what, err)
	}
	return out, nil
}

// ---- members

func scanMember(sc scanner) (callcenter.Member, error) {
	var m callcenter.Member
	err := sc.Scan(&m.Group, &m.Agent, &m.Level)
	return m, err
}

// SetMember implements Inbound.
func (s *SQLite) SetMember(ctx context.Context, m callcenter.Member) error {
	what := fmt.Sprintf("set member %q of group %q", m.Agent, m.Group)
	if m.Level < 1 {
		return fmt.Errorf("%s: %w: skill level %d (1 is the best)", what, callcenter.ErrInvalid, m.Level)
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := exists(ctx, tx, "group", "skill_groups", "name", m.Group); err != nil {
			return err
		}
		if err := exists(ctx, tx, "agent", "agents", "work_number", m.Agent); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO group_members (group_name, agent, level) VALUES (?, ?, ?)
			ON CONFLICT (group_name, agent) DO UPDATE SET level = excluded.level`, m.Group, m.Agent, m.Level)
		return err
	})
	if err != nil {
		return dbErr(what, err)
	}
	return nil
}

// RemoveMember implements Inbound.
func (s *SQLite) RemoveMember(ctx context.Context, group, agent string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM group_members WHERE group_name = ? AND agent = ?`, group, agent)
	return rowsAffected(fmt.Sprintf("remove member %q of group %q", agent, group), res, err)
}

// Members implements Inbound.
func (s *SQLite) Members(ctx context.Context, group string) ([]callcenter.Member, error) {
	what := fmt.Sprintf("members of group %q", group)
	rows, err := s.r.QueryContext(ctx, `SELECT group_name, agent, level FROM group_members
		WHERE group_name = ? ORDER BY level, agent`, group)
	out, err := scanAll(what, rows, err, scanMember)
	if err == nil && len(out) == 0 {
		if err := exists(ctx, s.r, "group", "skill_groups", "name", group); err != nil {
			return nil, dbErr(what, err)
		}
	}
	return out, err
}

// GroupsOf implements Inbound.
func (s *SQLite) GroupsOf(ctx context.Context, agent string) ([]callcenter.Member, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT group_name, agent, level FROM group_members
		WHERE agent = ? ORDER BY group_name`, agent)
	return scanAll(fmt.Sprintf("groups of agent %q", agent), rows, err, scanMember)
}

// ---- IVR menus

// jsonAction is how an IVRAction is stored: kinds by name, so the column
// reads well and survives renumbering of the enum.
type jsonAction struct {
	Kind   string `json:"kind"`
	Target string `json:"target,omitempty"`
}

func checkAction(what string, a callcenter.IVRAction) error {
	if a.Kind < callcenter.IVRGroup || a.Kind > callcenter.IVRAgent {
		return fmt.Errorf("%w: %s: unknown action kind %d", callcenter.ErrInvalid, what, a.Kind)
	}
	switch a.Kind {
	case callcenter.IVRGroup, callcenter.IVRSubMenu, callcenter.IVRAgent:
		if a.Target == "" {
			return fmt.Errorf("%w: %s: %s action without target", callcenter.ErrInvalid, what, a.Kind)
		}
		if a.Kind == callcenter.IVRAgent {
			return callcenter.ValidateWorkNumber(a.Target)
		}
		return validKey(a.Kind.String(), a.Target)
	}
	if a.Target != "" {
		return fmt.Errorf("%w: %s: %s action takes no target (got %q)", callcenter.ErrInvalid, what, a.Kind, a.Target)
	}
	return nil
}

// ValidDTMF reports whether r is a key of a phone keypad an IVR choice can
// be bound to: 0-9, * or #.
func ValidDTMF(r rune) bool { return '0' <= r && r <= '9' || r == '*' || r == '#' }

func checkMenu(m callcenter.IVRMenu) error {
	if err := validKey("IVR menu", m.Name); err != nil {
		return err
	}
	if strings.TrimSpace(m.Prompt) == "" || !utf8.ValidString(m.Prompt) {
		return fmt.Errorf("%w: IVR menu %q: empty prompt", callcenter.ErrInvalid, m.Name)
	}
	for d, a := range m.Choices {
		if !ValidDTMF(d) {
			return fmt.Errorf("%w: IVR menu %q: choice key %q is not 0-9, * or #", callcenter.ErrInvalid, m.Name, d)
		}
		if err := checkAction(fmt.Sprintf("IVR menu %q choice %c", m.Name, d), a); err != nil {
			return err
		}
	}
	if err := nonNegative("IVR timeout", m.Timeout); err != nil {
		return err
	}
	if m.MaxTries < 1 {
		// 0 would mean "never give up": a silent caller would loop forever.
		return fmt.Errorf("%w: IVR menu %q: max tries %d, want at least 1", callcenter.ErrInvalid, m.Name, m.MaxTries)
	}
	if m.OnFail.Kind == callcenter.IVRRepeat {
		return fmt.Errorf("%w: IVR menu %q: on fail cannot repeat the menu (it would loop)", callcenter.ErrInvalid, m.Name)
	}
	return checkAction(fmt.Sprintf("IVR menu %q on fail", m.Name), m.OnFail)
}

func encodeChoices(choices map[rune]callcenter.IVRAction) (string, error) {
	out := make(map[string]jsonAction, len(choices))
	for d, a := range choices {
		out[string(d)] = jsonAction{Kind: a.Kind.String(), Target: a.Target}
	}
	b, err := json.Marshal(out) // keys sorted: the same menu always stores the same text
	return string(b), err
}

func decodeChoices(s string) (map[rune]callcenter.IVRAction, error) {
	var in map[string]jsonAction
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return nil, err
	}
	out := make(map[rune]callcenter.IVRAction, len(in))
	for k, a := range in {
		d, size := utf8.DecodeRuneInString(k)
		if size != len(k) || !ValidDTMF(d) {
			return nil, fmt.Errorf("%w: choice key %q", callcenter.ErrInvalid, k)
		}
		kind, err := callcenter.ParseIVRActionKind(a.Kind)
		if err != nil {
			return nil, err
		}
		out[d] = callcenter.IVRAction{Kind: kind, Target: a.Target}
	}
	return out, nil
}

const menuCols = `id, name, prompt, choices, timeout, max_tries, on_fail_kind, on_fail_target`

func scanMenu(sc scanner) (callcenter.IVRMenu, error) {
	var (
		m               callcenter.IVRMenu
		choices, onFail string
	)
	if err := sc.Scan(&m.ID, &m.Name, &m.Prompt, &choices, &m.Timeout, &m.MaxTries, &onFail, &m.OnFail.Target); err != nil {
		return m, err
	}
	var err error
	if m.Choices, err = decodeChoices(choices); err != nil {
		return m, fmt.Errorf("IVR menu %q: stored choices: %w", m.Name, err)
	}
	if m.OnFail.Kind, err = callcenter.ParseIVRActionKind(onFail); err != nil {
		return m, fmt.Errorf("IVR menu %q: stored %w", m.Name, err)
	}
	return m, nil
}

// PutIVRMenu implements Inbound.
func (s *SQLite) PutIVRMenu(ctx context.Context, m callcenter.IVRMenu) (callcenter.IVRMenu, error) {
	what := fmt.Sprintf("put IVR menu %q", m.Name)
	if err := checkMenu(m); err != nil {
		return m, fmt.Errorf("%s: %w", what, err)
	}
	choices, err := encodeChoices(m.Choices)
	if err != nil {
		return m, fmt.Errorf("%s: %w", what, err)
	}
	err = s.w.QueryRowContext(ctx, `INSERT INTO ivr_menus (`+strings.TrimPrefix(menuCols, "id, ")+`)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET prompt = excluded.prompt, choices = excluded.choices,
			timeout = excluded.timeout, max_tries = excluded.max_tries,
			on_fail_kind = excluded.on_fail_kind, on_fail_target = excluded.on_fail_target
		RETURNING id`, m.Name, m.Prompt, choices, int64(m.Timeout), m.MaxTries, m.OnFail.Kind.String(), m.OnFail.Target,
	).Scan(&m.ID)
	if err != nil {
		return m, dbErr(what, err)
	}
	return m, nil
}

// IVRMenuByName implements Inbound.
func (s *SQLite) IVRMenuByName(ctx context.Context, name string) (callcenter.IVRMenu, error) {
	m, err := scanMenu(s.r.QueryRowContext(ctx, `SELECT `+menuCols+` FROM ivr_menus WHERE name = ?`, name))
	if err != nil {
		return m, dbErr(fmt.Sprintf("IVR menu %q", name), err)
	}
	return m, nil
}

// ListIVRMenus implements Inbound.
func (s *SQLite) ListIVRMenus(ctx context.Context) ([]callcenter.IVRMenu, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+menuCols+` FROM ivr_menus ORDER BY name`)
	return scanAll("list IVR menus", rows, err, scanMenu)
}

// ---- custom statuses

// CreateCustomStatus implements Inbound.
func (s *SQLite) CreateCustomStatus(ctx context.Context, c callcenter.CustomStatus) (callcenter.CustomStatus, error) {
	what := fmt.Sprintf("create custom status %q", c.Name)
	if err := validKey("custom status", c.Name); err != nil {
		return c, fmt.Errorf("%s: %w", what, err)
	}
	if err := callcenter.ValidateName(c.Label); err != nil {
		return c, fmt.Errorf("%s: label: %w", what, err)
	}
	err := s.w.QueryRowContext(ctx, `INSERT INTO custom_statuses (name, label) VALUES (?, ?) RETURNING id`,
		c.Name, c.Label).Scan(&c.ID)
	if err != nil {
		return c, dbErr(what, err)
	}
	return c, nil
}

// ListCustomStatuses implements Inbound.
func (s *SQLite) ListCustomStatuses(ctx context.Context) ([]callcenter.CustomStatus, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, name, label FROM custom_statuses ORDER BY id`)
	return scanAll("list custom statuses", rows, err, func(sc scanner) (callcenter.CustomStatus, error) {
		var c callcenter.CustomStatus
		err := sc.Scan(&c.ID, &c.Name, &c.Label)
		return c, err
	})
}

// ---- number routes

// SetNumberRoute implements Inbound.
func (s *SQLite) SetNumberRoute(ctx context.Context, e164, ivr, group, agent string) error {
	what := fmt.Sprintf("route number %q", e164)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := exists(ctx, tx, "number", "numbers", "e164", e164); err != nil {
			return err
		}
		if err := routeTargetsExist(ctx, tx, ivr, group, agent); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE numbers SET route_ivr = ?, route_group = ?, route_agent = ? WHERE e164 = ?`,
			nullString(ivr), nullString(group), nullString(agent), e164)
		return err
	})
	if err != nil {
		return dbErr(what, err)
	}
	return nil
}

// ---- agent status log

const statusCols = `agent, presence, custom, phone, auto_answer, activity, acw_until, since, idle_since`

func scanStatus(sc scanner) (callcenter.AgentStatus, error) {
	var (
		st                         callcenter.AgentStatus
		presence, phone, activity  string
		acwUntil, since, idleSince sql.NullInt64
	)
	if err := sc.Scan(&st.Agent, &presence, &st.Custom, &phone, &st.AutoAnswer, &activity, &acwUntil, &since, &idleSince); err != nil {
		return st, err
	}
	st.ACWUntil, st.Since, st.IdleSince = fromNanos(acwUntil), fromNanos(since), fromNanos(idleSince)
	var err error
	if st.Presence, err = parseEnum(presence, callcenter.PresenceOffline, callcenter.PresenceCustom); err != nil {
		return st, fmt.Errorf("status of %q: stored presence: %w", st.Agent, err)
	}
	if st.Phone, err = parseEnum(phone, callcenter.PhoneBusy, callcenter.PhoneIdle); err != nil {
		return st, fmt.Errorf("status of %q: stored phone status: %w", st.Agent, err)
	}
	if st.Activity, err = parseEnum(activity, callcenter.ActivityNone, callcenter.ActivityACW); err != nil {
		return st, fmt.Errorf("status of %q: stored activity: %w", st.Agent, err)
	}
	return st, nil
}

// parseEnum is the inverse of String for the status enums, which (unlike
// the older ones) have no Parse function in package callcenter.
func parseEnum[E interface {
	~int
	String() string
}](s string, lo, hi E) (E, error) {
	for v := lo; v <= hi; v++ {
		if v.String() == s {
			return v, nil
		}
	}
	return 0, fmt.Errorf("%w: %q", callcenter.ErrInvalid, s)
}

func checkStatus(st callcenter.AgentStatus) error {
	if err := callcenter.ValidateWorkNumber(st.Agent); err != nil {
		return err
	}
	if st.Presence < callcenter.PresenceOffline || st.Presence > callcenter.PresenceCustom {
		return fmt.Errorf("%w: presence %d", callcenter.ErrInvalid, st.Presence)
	}
	if st.Phone < callcenter.PhoneBusy || st.Phone > callcenter.PhoneIdle {
		return fmt.Errorf("%w: phone status %d", callcenter.ErrInvalid, st.Phone)
	}
	if st.Activity < callcenter.ActivityNone || st.Activity > callcenter.ActivityACW {
		return fmt.Errorf("%w: activity %d", callcenter.ErrInvalid, st.Activity)
	}
	if st.Presence == callcenter.PresenceCustom && st.Custom == "" {
		return fmt.Errorf("%w: custom presence without the custom status", callcenter.ErrInvalid)
	}
	if st.Since.IsZero() {
		return fmt.Errorf("%w: status without since", callcenter.ErrInvalid)
	}
	return errors.Join(checkTime("since", st.Since), checkTime("ACW until", st.ACWUntil), checkTime("idle since", st.IdleSince))
}

// AppendStatus implements Inbound.
func (s *SQLite) AppendStatus(ctx context.Context, st callcenter.AgentStatus) error {
	what := fmt.Sprintf("append status of agent %q", st.Agent)
	if err := checkStatus(st); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO agent_status_log (`+statusCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		st.Agent, st.Presence.String(), st.Custom, st.Phone.String(), st.AutoAnswer, st.Activity.String(),
		nanos(st.ACWUntil), nanos(st.Since), nanos(st.IdleSince))
	if err != nil {
		return dbErr(what, err)
	}
	return nil
}

// LastStatus implements Inbound.
func (s *SQLite) LastStatus(ctx context.Context, agent string) (callcenter.AgentStatus, error) {
	st, err := scanStatus(s.r.QueryRowContext(ctx, `SELECT `+statusCols+` FROM agent_status_log
		WHERE agent = ? ORDER BY since DESC, id DESC LIMIT 1`, agent))
	if err != nil {
		return st, dbErr(fmt.Sprintf("last status of agent %q", agent), err)
	}
	return st, nil
}

// StatusLog implements Inbound.
func (s *SQLite) StatusLog(ctx context.Context, agent string, since, until time.Time) ([]callcenter.AgentStatus, error) {
	what := fmt.Sprintf("status log of agent %q", agent)
	if err := errors.Join(checkTime("since", since), checkTime("until", until)); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if !since.IsZero() {
		lo = since.UnixNano()
	}
	if !until.IsZero() {
		hi = until.UnixNano()
	}
	if hi < lo {
		return nil, fmt.Errorf("%s: %w: until %s before since %s", what, callcenter.ErrInvalid, until, since)
	}
	// One statement, so both halves read the same snapshot; each half walks
	// the (agent, since, id) index.
	rows, err := s.r.QueryContext(ctx, `SELECT `+statusCols+` FROM (
			SELECT * FROM (SELECT * FROM agent_status_log WHERE agent = ?1 AND since <= ?2 ORDER BY since DESC, id DESC LIMIT 1)
			UNION ALL
			SELECT * FROM agent_status_log WHERE agent = ?1 AND since > ?2 AND since < ?3
		) ORDER BY since, id`, agent, lo, hi)
	return scanAll(what, rows, err, scanStatus)
}

// ---- offers

const offerCols = `call_id, agent, group_name, customer, center_number, offered_at, ended_at, answered, reason`

func scanOffer(sc scanner) (callcenter.Offer, error) {
	var (
		o            callcenter.Offer
		offered, end sql.NullInt64
	)
	err := sc.Scan(&o.CallID, &o.Agent, &o.Group, &o.Customer, &o.CenterNumber, &offered, &end, &o.Answered, &o.Reason)
	o.OfferedAt, o.EndedAt = fromNanos(offered), fromNanos(end)
	return o, err
}

func checkOffer(o callcenter.Offer) error {
	switch {
	case o.CallID == "":
		return fmt.Errorf("%w: empty call id", callcenter.ErrInvalid)
	case o.Agent == "":
		return fmt.Errorf("%w: empty agent", callcenter.ErrInvalid)
	case o.OfferedAt.IsZero():
		return fmt.Errorf("%w: offer time not set", callcenter.ErrInvalid)
	case o.EndedAt.IsZero():
		return fmt.Errorf("%w: end time not set (record an offer when it ends)", callcenter.ErrInvalid)
	case o.EndedAt.Before(o.OfferedAt):
		return fmt.Errorf("%w: offer ends %s before it began %s", callcenter.ErrInvalid, o.EndedAt, o.OfferedAt)
	}
	return errors.Join(checkTime("offered at", o.OfferedAt), checkTime("ended at", o.EndedAt))
}

// RecordOffer implements Inbound.
func (s *SQLite) RecordOffer(ctx context.Context, o callcenter.Offer) error {
	what := fmt.Sprintf("record offer of call %q to agent %q", o.CallID, o.Agent)
	if err := checkOffer(o); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO offers (`+offerCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (call_id, agent, offered_at) DO NOTHING`,
		o.CallID, o.Agent, o.Group, o.Customer, o.CenterNumber, nanos(o.OfferedAt), nanos(o.EndedAt), o.Answered, o.Reason)
	if err != nil {
		return dbErr(what, err)
	}
	return nil
}

// Offers implements Inbound.
func (s *SQLite) Offers(ctx context.Context, agent string, since time.Time, missedOnly bool, limit int) ([]callcenter.Offer, error) {
	what := fmt.Sprintf("offers of agent %q", agent)
	if limit < 0 {
		return nil, fmt.Errorf("%s: %w: negative limit %d", what, callcenter.ErrInvalid, limit)
	}
	if err := checkTime("since", since); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	lo := int64(math.MinInt64)
	if !since.IsZero() {
		lo = since.UnixNano()
	}
	lim := int64(-1) // SQLite: no limit
	if limit > 0 {
		lim = int64(limit)
	}
	q := `SELECT ` + offerCols + ` FROM offers WHERE agent = ? AND offered_at >= ?`
	if missedOnly {
		q += ` AND answered = 0`
	}
	rows, err := s.r.QueryContext(ctx, q+` ORDER BY offered_at DESC, id DESC LIMIT ?`, agent, lo, lim)
	return scanAll(what, rows, err, scanOffer)
}

// ---- screen pop

// CallsWith implements Inbound.
func (s *SQLite) CallsWith(ctx context.Context, number string) (int, time.Time, error) {
	if number == "" {
		return 0, time.Time{}, nil
	}
	var (
		n    int
		last sql.NullInt64
	)
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*), MAX(started_at) FROM call_records
		WHERE caller = ?1 OR callee = ?1`, number).Scan(&n, &last)
	if err != nil {
		return 0, time.Time{}, dbErr(fmt.Sprintf("calls with %q", number), err)
	}
	return n, fromNanos(last), nil
}
