package google

import "testing"

func TestParseMachineType(t *testing.T) {
	cases := map[string]struct {
		family, cpu, mem string
		custom, shared   bool
	}{
		"e2-micro":              {"e2", "0.25", "1", false, false},
		"e2-medium":             {"e2", "1", "4", false, false},
		"e2-standard-4":         {"e2", "4", "16", false, false},
		"n1-standard-16":        {"n1", "16", "60", false, false},
		"n1-highmem-2":          {"n1", "2", "13", false, false},
		"n2-highcpu-8":          {"n2", "8", "8", false, false},
		"custom-6-20480":        {"n1", "6", "20", true, false},
		"n2-custom-4-10240-ext": {"n2", "4", "10", true, false},
		"f1-micro":              {"", "0", "0", false, true},
	}
	for mt, want := range cases {
		m, err := ParseMachineType(mt)
		if err != nil {
			t.Errorf("%s: %v", mt, err)
			continue
		}
		if m.Family != want.family || m.VCPUs.String() != want.cpu || m.MemoryGB.String() != want.mem || m.Custom != want.custom || m.SharedCore != want.shared {
			t.Errorf("%s = %+v (%s vCPU, %s GB)", mt, m, m.VCPUs, m.MemoryGB)
		}
	}
	for _, bad := range []string{"m1-ultramem-80", "banana", "n1-standard-x"} {
		if _, err := ParseMachineType(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	in, err := ParseSQLTier("db-n1-standard-2")
	if err != nil || in.VCPUs != 2 || in.MemoryGB.String() != "7.5" {
		t.Errorf("db-n1-standard-2 = %+v %v", in, err)
	}
	if _, err := ParseSQLTier("db-perf-optimized-N-8"); err == nil {
		t.Error("unknown tier accepted")
	}
}
