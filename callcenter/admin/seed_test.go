package admin

import (
	"context"
	"testing"

	"github.com/agentphone/agentphone/callcenter"
)

// TestSeedCustomers: the demo customers are created once, carry the
// pstnsim callers' numbers, and an admin's edit survives a new Seed.
func TestSeedCustomers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	addAgents(t, st)
	for i := range 2 {
		if err := Seed(ctx, st, realm); err != nil {
			t.Fatalf("Seed #%d: %v", i, err)
		}
	}
	all, err := st.Customers(ctx, callcenter.CustomerFilter{})
	if err != nil || len(all) != len(DemoCustomers()) {
		t.Fatalf("customers after two seeds = %+v, %v; want %d", all, err, len(DemoCustomers()))
	}
	for number, name := range map[string]string{"13800138000": "张伟", "02161234567": "Acme Ltd", "18912345678": "Acme Ltd"} {
		cs, err := st.Customers(ctx, callcenter.CustomerFilter{Number: number})
		if err != nil || len(cs) != 1 || cs[0].Name != name {
			t.Errorf("customer of %s = %+v, %v; want %s", number, cs, err, name)
		}
	}
	zhang, _ := st.Customers(ctx, callcenter.CustomerFilter{Number: "13800138000"})
	edited := zhang[0]
	edited.Name = "张伟 (renamed)"
	if _, err := st.UpdateCustomer(ctx, edited); err != nil {
		t.Fatal(err)
	}
	if err := Seed(ctx, st, realm); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Customer(ctx, edited.ID); got.Name != "张伟 (renamed)" {
		t.Fatalf("Seed overwrote an edited customer: %q", got.Name)
	}
	if all, _ := st.Customers(ctx, callcenter.CustomerFilter{}); len(all) != len(DemoCustomers()) {
		t.Fatalf("Seed added a customer again: %d", len(all))
	}
}
