package pricing

import (
	"fmt"
	"testing"
)

// TestFamilyKey: the remembered keys are the computed ones, on the first
// call and later, and names past the bound are still normalised.
func TestFamilyKey(t *testing.T) {
	for _, name := range []string{"AmazonS3", "Amazon Simple Storage Service", "AmazonCloudWatch", "Compute Engine", "cloud-storage", ""} {
		want := normalizeFamily(name)
		for range 3 {
			if got := familyKey(name); got != want {
				t.Fatalf("familyKey(%q) = %q, want %q", name, got, want)
			}
		}
	}
	if familyKey("Amazon S3!") != familyKey("amazons3") {
		t.Errorf("case and punctuation matter: %q against %q", familyKey("Amazon S3!"), familyKey("amazons3"))
	}
	for i := range maxFamilyKeys + 10 {
		name := fmt.Sprintf("Service-%d", i)
		if got := familyKey(name); got != fmt.Sprintf("service%d", i) {
			t.Fatalf("familyKey(%q) = %q", name, got)
		}
	}
}
