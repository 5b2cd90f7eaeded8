package store

import (
	"reflect"
	"testing"
	"time"

	"github.com/costgate/costgate"
)

// TestLineItemStringValuesOrder keeps the direct field reader in step with
// the column list.
func TestLineItemStringValuesOrder(t *testing.T) {
	var li costgate.LineItem
	v := reflect.ValueOf(&li).Elem()
	for i := 0; i < v.NumField(); i++ {
		if f := v.Field(i); f.Kind() == reflect.String {
			f.SetString(v.Type().Field(i).Name)
		}
	}
	out := make([]string, len(lineItemStrings))
	lineItemStringValues(&li, out)
	for j, f := range lineItemStrings {
		if out[j] != f.get(&li) {
			t.Errorf("column %d %s: direct read %q, accessor %q", j, f.name, out[j], f.get(&li))
		}
	}
	for i := 0; i < v.NumField(); i++ {
		if f := v.Field(i); f.Kind() == reflect.Int64 {
			f.SetInt(int64(i + 1))
		}
	}
	nums := make([]int64, len(lineItemNums))
	lineItemNumValues(&li, nums)
	for j, f := range lineItemNums {
		if nums[j] != f.get(&li) {
			t.Errorf("number %d %s: direct read %d, accessor %d", j, f.name, nums[j], f.get(&li))
		}
	}
	li.ChargePeriodStart = time.Unix(1, 0)
	li.ChargePeriodEnd = time.Unix(2, 0)
	li.BillingPeriodStart = time.Unix(3, 0)
	li.BillingPeriodEnd = time.Unix(4, 0)
	times := make([]int64, len(lineItemTimes))
	lineItemTimeValues(&li, times)
	for j, f := range lineItemTimes {
		if times[j] != timeNanos(f.get(&li)) {
			t.Errorf("time %d %s: direct read %d", j, f.name, times[j])
		}
	}
	// Every string field of LineItem is a column.
	n := 0
	for i := 0; i < v.NumField(); i++ {
		if v.Field(i).Kind() == reflect.String {
			n++
		}
	}
	if n != len(lineItemStrings) {
		t.Errorf("LineItem has %d string fields, the store keeps %d", n, len(lineItemStrings))
	}
}
