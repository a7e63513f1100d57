package spec

import (
	"encoding/json"
	"fmt"
	"testing"
)

func TestValuePrinting(t *testing.T) {
	tests := []struct {
		name  string
		value Value
		verb  string
		want  string
	}{
		{"plain %v", PlainValue("3306"), "%v", "3306"},
		{"plain %q", PlainValue("3306"), "%q", `"3306"`},
		{"plain %5s", PlainValue("ab"), "%5s", "   ab"},
		{"plain %#v", PlainValue("ab"), "%#v", `spec.PlainValue("ab")`},
		{"sensitive %v", SensitiveValue(NewSecret("PW", "x")), "%v", "(sensitive: PW)"},
		{"sensitive %q", SensitiveValue(NewSecret("PW", "x")), "%q", "(sensitive: PW)"},
		{"sensitive %#v", SensitiveValue(NewSecret("PW", "x")), "%#v", "spec.Secret(sensitive: PW)"},
		{"literal secret %s", PlainValue("x").markSensitive(""), "%s", "(sensitive)"},
		{"unresolved %v", UnresolvedValue("A", "B"), "%v", "(sensitive: A, B)"},
	}
	for _, tt := range tests {
		if got := fmt.Sprintf(tt.verb, tt.value); got != tt.want {
			t.Errorf("%s: Sprintf(%q) = %q, want %q", tt.name, tt.verb, got, tt.want)
		}
	}
}

func TestValueJSON(t *testing.T) {
	params := map[string]Value{
		"port":     PlainValue("3306"),
		"control":  PlainValue("a\x00b"),
		"password": SensitiveValue(NewSecret("PW", "hunter2")),
	}
	data, err := json.Marshal(params)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"control":"a\u0000b","password":"(sensitive: PW)","port":"3306"}`
	if string(data) != want {
		t.Errorf("json.Marshal = %s, want %s", data, want)
	}
}

func TestValueAccessors(t *testing.T) {
	v := UnresolvedValue("PW")
	if !v.Sensitive() || v.Reveal() != "" || len(v.Unresolved()) != 1 {
		t.Errorf("UnresolvedValue: sensitive=%v reveal=%q unresolved=%v", v.Sensitive(), v.Reveal(), v.Unresolved())
	}
	s := SensitiveValue(NewSecret("PW", "hunter2"))
	if s.Reveal() != "hunter2" || len(s.Unresolved()) != 0 {
		t.Errorf("SensitiveValue: reveal=%q unresolved=%v", s.Reveal(), s.Unresolved())
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		err  Error
		want string
	}{
		{Error{Pos: Position{File: "a.yaml", Line: 3, Col: 7}, Field: "name", Msg: "m"}, "a.yaml:3:7: name: m"},
		{Error{Pos: Position{File: "a.yaml", Line: 3}, Msg: "m"}, "a.yaml:3: m"},
		{Error{Pos: Position{File: "a.yaml"}, Msg: "m"}, "a.yaml: m"},
		{Error{Msg: "m"}, "m"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	list := ErrorList{&tests[0].err, &tests[1].err}
	if got, want := list.Error(), "a.yaml:3:7: name: m\na.yaml:3: m"; got != want {
		t.Errorf("ErrorList.Error() = %q, want %q", got, want)
	}
}
