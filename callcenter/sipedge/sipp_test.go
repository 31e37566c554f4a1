package sipedge

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/agentphone/agentphone/callcenter"
)

// sippScenario registers as agent 1001 with MD5 digest, then calls agent 1002,
// talks half a second and hangs up.
const sippScenario = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="agent registers with MD5 digest and calls another agent">
  <send retrans="500"><![CDATA[
REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:1001@[remote_ip]>;tag=[pid]SIPpTag00[call_number]
To: <sip:1001@[remote_ip]>
Call-ID: [call_id]
CSeq: 1 REGISTER
Contact: <sip:1001@[local_ip]:[local_port]>
Expires: 120
Max-Forwards: 70
User-Agent: sipp
Content-Length: 0

]]></send>
  <recv response="401" auth="true"/>
  <send retrans="500"><![CDATA[
REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:1001@[remote_ip]>;tag=[pid]SIPpTag00[call_number]
To: <sip:1001@[remote_ip]>
Call-ID: [call_id]
CSeq: 2 REGISTER
Contact: <sip:1001@[local_ip]:[local_port]>
[authentication username=1001 password=pw1001]
Expires: 120
Max-Forwards: 70
User-Agent: sipp
Content-Length: 0

]]></send>
  <recv response="200"/>
  <send retrans="500"><![CDATA[
INVITE sip:1002@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:1001@[remote_ip]>;tag=[pid]SIPpTag01[call_number]
To: <sip:1002@[remote_ip]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:1001@[local_ip]:[local_port]>
Max-Forwards: 70
User-Agent: sipp
Content-Type: application/sdp
Content-Length: [len]

v=0
o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rrs="true"/>
  <send><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:1001@[remote_ip]>;tag=[pid]SIPpTag01[call_number]
To: <sip:1002@[remote_ip]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
  <pause milliseconds="500"/>
  <send retrans="500"><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:1001@[remote_ip]>;tag=[pid]SIPpTag01[call_number]
To: <sip:1002@[remote_ip]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 2 BYE
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200"/>
</scenario>
`

func TestSippInterop(t *testing.T) {
	bin, err := exec.LookPath("sipp")
	if err != nil {
		t.Skip("sipp not installed (Debian package sip-tester): skipping the interop test")
	}
	// sipp 3.6 answers only the first challenge and aborts when it is not
	// MD5 ("createAuthHeader: authentication must use MD5"), so this edge
	// prefers MD5, as a deployment with such phones would.
	c := newCenter(t, answerer, WithDigestAlgorithms(algMD5, algSHA256))
	dir := t.TempDir()
	scen := filepath.Join(dir, "agent.xml")
	if err := os.WriteFile(scen, []byte(sippScenario), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// sipp cannot bind port 0 (it falls back to 5060): hand it ports the
	// kernel just gave out.
	cmd := exec.CommandContext(ctx, bin, c.edge.Addr(),
		"-sf", scen, "-m", "1", "-i", "127.0.0.1", "-p", freeUDPPort(t), "-mi", "127.0.0.1", "-mp", freeUDPPort(t),
		"-nostdin", "-timeout", "20s", "-timeout_error", "-recv_timeout", "10000",
		"-trace_err", "-error_file", filepath.Join(dir, "err.log"))
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		errLog, _ := os.ReadFile(filepath.Join(dir, "err.log"))
		t.Fatalf("sipp failed: %v\n%s\n%s", err, lastLines(string(out), 30), errLog)
	}
	offer := <-c.offers
	if v := offer.GetHeader(HeaderCaller); v == nil || v.Value() != "1001" {
		t.Errorf("offer to 1002 X-Caller = %v", v)
	}
	r := c.rec.waitEnded(t)
	if r.Type != callcenter.CallInternal || r.Caller != "1001" || r.Callee != "1002" || r.Result != callcenter.ResultAnswered || r.HangupBy != callcenter.PartyCaller || r.Codec != "PCMU" {
		t.Errorf("record %+v", r)
	}
}

// freeUDPPort returns a port that was free a moment ago.
func freeUDPPort(t *testing.T) string {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return strconv.Itoa(c.LocalAddr().(*net.UDPAddr).Port)
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
