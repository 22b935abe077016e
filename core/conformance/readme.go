package conformance

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// CheckREADME checks the capability table in a kit's README against what
// the kit declares, so the documentation cannot drift from the tests. The
// table has one row per Features field, named as the field, with "yes"
// or "no" in its second column:
//
//	| capability | supported | how |
//	| --- | --- | --- |
//	| AvailabilityCheck | yes | GET /v1/availability |
func CheckREADME(t testing.TB, path string, declared Features) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	row := regexp.MustCompile(`(?m)^\|\s*` + "`?" + `([A-Za-z]+)` + "`?" + `\s*\|\s*(yes|no)\s*\|`)
	table := map[string]bool{}
	for _, m := range row.FindAllStringSubmatch(string(b), -1) {
		table[m[1]] = strings.EqualFold(m[2], "yes")
	}
	v := reflect.ValueOf(declared)
	for i := range v.NumField() {
		name := v.Type().Field(i).Name
		doc, ok := table[name]
		switch {
		case !ok:
			t.Errorf("%s: the capability table has no row for %s", path, name)
		case doc != v.Field(i).Bool():
			t.Errorf("%s: the table says %s is %v, the kit declares %v", path, name, yesNo(doc), yesNo(v.Field(i).Bool()))
		}
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
