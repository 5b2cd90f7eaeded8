package azure

import "testing"

func TestDiskTier(t *testing.T) {
	cases := []struct {
		family string
		size   int64
		want   string
	}{
		{"Standard HDD", 30, "S4"}, {"Standard HDD", 127, "S10"}, {"Standard SSD", 1000, "E30"},
		{"Premium SSD", 32, "P4"}, {"Premium SSD", 33, "P6"}, {"Premium SSD", 4096, "P50"},
	}
	for _, c := range cases {
		if got, err := DiskTier(c.family, c.size); err != nil || got != c.want {
			t.Errorf("DiskTier(%s, %d) = %s, %v; want %s", c.family, c.size, got, err, c.want)
		}
	}
	if _, err := DiskTier("Ultra", 10); err == nil {
		t.Error("ultra accepted")
	}
	if _, err := DiskTier("Premium SSD", 40000); err == nil {
		t.Error("oversized disk accepted")
	}
}
