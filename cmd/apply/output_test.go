package main

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestCodeFence(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"plain", "```"},
		{"one ` tick", "```"},
		{"a ``` fence", "````"},
		{"``````", "```````"},
	}
	for _, tt := range tests {
		if got := codeFence(tt.in); got != tt.want {
			t.Errorf("codeFence(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFailureMarkdown(t *testing.T) {
	var b bytes.Buffer
	writeFailureMarkdown(&b, "apply plan", true, []string{"a.yaml:1:1: name: ``` breaks out", "second"})
	want := "### apply plan\n\n" +
		"**Plan failed.** No plan was made, because of these errors:\n\n" +
		"````text\na.yaml:1:1: name: ``` breaks out\nsecond\n````\n"
	if b.String() != want {
		t.Errorf("failure Markdown:\n%s\nwant:\n%s", b.String(), want)
	}

	b.Reset()
	writeFailureMarkdown(&b, "apply result", false, []string{"x"})
	if !strings.Contains(b.String(), "**Apply failed.** Nothing was applied") {
		t.Errorf("failure Markdown of an apply lacks the apply wording:\n%s", b.String())
	}
}

func TestFailureMarkdownBounded(t *testing.T) {
	lines := make([]string, maxFailureLines+5)
	for i := range lines {
		lines[i] = fmt.Sprintf("line %d %s", i, strings.Repeat("é", maxFailureLineBytes))
	}
	var b bytes.Buffer
	writeFailureMarkdown(&b, "apply plan", true, lines)
	out := b.String()
	if !strings.Contains(out, " lines more; the job log lists every error.\n") {
		t.Errorf("failure Markdown does not count the lines left out:\n%s", out[len(out)-200:])
	}
	for _, line := range strings.Split(out, "\n") {
		if len(line) > maxFailureLineBytes+len(" …") {
			t.Fatalf("line of %d bytes, want at most %d: %.40q...", len(line), maxFailureLineBytes, line)
		}
	}
	// GitHub rejects comments of more than 65,536 characters.
	if len(out) > 65536 {
		t.Errorf("failure Markdown is %d bytes, want at most 65536", len(out))
	}

	// Short lines are bounded by count.
	for i := range lines {
		lines[i] = fmt.Sprintf("line %d", i)
	}
	b.Reset()
	writeFailureMarkdown(&b, "apply plan", true, lines)
	out = b.String()
	if !strings.Contains(out, "\nline 199\n") || strings.Contains(out, "\nline 200\n") {
		t.Errorf("failure Markdown does not end the list at line %d:\n%s", maxFailureLines, out[len(out)-200:])
	}
	if !strings.Contains(out, "\n5 lines more; the job log lists every error.\n") {
		t.Errorf("failure Markdown does not count the 5 lines left out:\n%s", out[len(out)-200:])
	}
}

func TestFailureLines(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want []string
	}{
		{"reported", &reportedError{lines: []string{"a", "b"}}, []string{"a", "b"}},
		{"wrapped reported", fmt.Errorf("run: %w", &reportedError{lines: []string{"a"}}), []string{"a"}},
		{"config", &configError{problems: []string{"missing X"}}, []string{"configuration is incomplete:", "  missing X"}},
		{"joined", errors.Join(errors.New("one"), errors.New("two")), []string{"one", "two"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := failureLines(tt.err)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("failureLines = %q, want %q", got, tt.want)
			}
		})
	}
	if !errors.Is(&reportedError{}, errShown) {
		t.Error("a reportedError does not match errShown, so its lines would be printed twice")
	}
}
