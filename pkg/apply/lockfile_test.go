package apply

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// sampleLock has one entry of each shape: recorded, keyed, pending and
// replacing. The map is filled out of order on purpose.
func sampleLock() *lockFile {
	l := newLockFile(Target{Endpoint: "https://platform.adobe.io", OrgID: "5C1328435BF324E90A49402A@AdobeOrg", Sandbox: "prod"})
	mysql := specRef{ID: "26d738e0-8963-47ea-aadf-c60de735468a", Version: "1.0"}
	l.Entries["orders"] = &lockEntry{
		Name: "orders", ID: "139f6a5f-a78b-4744-9f6a-5fa78bd74431", ConnectionSpec: mysql,
		AuthSpecName: "Basic Authentication", Digest: "sha256:1111",
		SecretSalt: "QZD2CXUAX7X7GLQXMAKN2ZGLIL", SecretHMAC: "hmac-sha256:2222", SecretKeyID: "0123456789abcdef",
	}
	l.Entries["billing <eu> & co"] = &lockEntry{
		Name: "billing <eu> & co", ConnectionSpec: mysql,
		AuthSpecName: "Basic Authentication", Digest: "sha256:3333", Pending: true,
		PendingSince: time.Date(2026, 3, 1, 12, 0, 0, 250e6, time.UTC),
	}
	l.Entries["analytics"] = &lockEntry{
		Name: "analytics", ID: "025d4158-4113-403b-b551-e81724d3880c", ConnectionSpec: specRef{ID: "3c9b37f8-13a6-43d8-bad3-b863b941fedd"},
		AuthSpecName: "Connection String Based Authentication", Digest: "sha256:4444",
		Replaces: "9a0c3c2e-5f0e-4bd7-8a2b-0c8e7f1d2b3a",
	}
	return l
}

func TestLockEncodeGolden(t *testing.T) {
	got := sampleLock().encode()
	path := filepath.Join("testdata", "lock", "normal-form.json")
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (set UPDATE_GOLDEN=1 to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("encode() differs from %s (-want +got):\n%s", path, diff)
	}
	if !bytes.HasSuffix(got, []byte("}\n")) {
		t.Errorf("encode() does not end with a newline")
	}
}

func TestLockRoundTrip(t *testing.T) {
	want := sampleLock()
	data := want.encode()
	got, err := decodeLock(data)
	if err != nil {
		t.Fatalf("decodeLock(encode()) error: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decodeLock(encode()) (-want +got):\n%s", diff)
	}
	if again := got.encode(); !bytes.Equal(again, data) {
		t.Errorf("encoding is not stable:\n%s\nthen\n%s", data, again)
	}
}

func TestLockEncodeEmpty(t *testing.T) {
	got := string(newLockFile(Target{Endpoint: "http://127.0.0.1:1", OrgID: "o", Sandbox: "s"}).encode())
	if !strings.Contains(got, `"connections": []`) {
		t.Errorf("empty lock file = %s, want an empty connections list", got)
	}
}

func TestDecodeLockErrors(t *testing.T) {
	tests := []struct {
		name string
		file string
		want string // expected error, with position
	}{
		{"unknown top-level field", "unknown-field.json", `3:3: unknown field "generated"`},
		{"unknown entry field", "unknown-entry-field.json", `14:7: unknown field "password"`},
		{"repeated field", "repeated-field.json", `7:3: field "sandbox" is repeated`},
		{"duplicate name", "duplicate-name.json", `18:5: connection "orders" is listed twice`},
		{"duplicate id", "duplicate-id.json", `18:5: connections "orders" and "payments" have the same id 139f6a5f-a78b-4744-9f6a-5fa78bd74431`},
		{"newer version", "newer-version.json", `3:3: version 2 is newer than this apply supports (1): upgrade apply`},
		{"missing version", "missing-version.json", `1:1: missing field "version"`},
		{"version as string", "version-string.json", `3:14: expected an integer, found a string`},
		{"missing id", "missing-id.json", `8:5: connection "orders": missing id (only a pending entry has none)`},
		{"pending with id", "pending-with-id.json", `8:5: connection "orders": a pending entry has no id yet, but id is set`},
		{"hmac without key id", "hmac-without-key-id.json", `8:5: connection "orders": secretHmac and secretKeyId must be set together`},
		{"salt without hmac", "salt-without-hmac.json", `8:5: connection "orders": secretSalt is set without secretHmac`},
		{"pendingSince without pending", "pending-since-not-pending.json", `8:5: connection "orders": pendingSince is set, but the entry is not pending`},
		{"pendingSince not a time", "pending-since-invalid.json", `17:7: pendingSince "yesterday" is not an RFC 3339 time`},
		{"replaces a recorded id", "replaces-recorded-id.json", `17:5: connection "payments" replaces 139f6a5f-a78b-4744-9f6a-5fa78bd74431, which is the id of connection "orders"`},
		{"id replaced by an earlier entry", "replaces-later-id.json", `18:5: connection "orders" has id 139f6a5f-a78b-4744-9f6a-5fa78bd74431, which connection "billing" replaces`},
		{"two entries replace one id", "replaces-twice.json", `18:5: connections "billing" and "orders" both replace 9a0c3c2e-5f0e-4bd7-8a2b-0c8e7f1d2b3a`},
		{"syntax error", "syntax-error.json", `11:7: invalid character '"' after object key:value pair`},
		{"truncated", "truncated.json", `6:3: unexpected end of file`},
		{"trailing data", "trailing-data.json", `9:1: unexpected data after the end of the document`},
		{"connections null", "connections-null.json", `7:18: expected an array, found null`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "lock", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			_, err = decodeLock(data)
			if err == nil {
				t.Fatalf("decodeLock(%s) succeeded, want error %q", tt.file, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("decodeLock(%s) error = %q, want it to contain %q", tt.file, err, tt.want)
			}
		})
	}
}

func TestDecodeLockAcceptsHandFormatting(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "lock", "hand-formatted.json"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := decodeLock(data)
	if err != nil {
		t.Fatalf("decodeLock: %v", err)
	}
	if got := len(l.Entries); got != 2 {
		t.Errorf("decoded %d entries, want 2", got)
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "apply.lock.json")

	if err := writeFileAtomic(path, []byte("first\n"), 0o644); err != nil {
		t.Fatalf("first write: %v", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := writeFileAtomic(path, []byte("second\n"), 0o644); err != nil {
		t.Fatalf("second write: %v", err)
	}

	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "second\n" {
		t.Errorf("content = %q, want %q", got, "second\n")
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("permissions = %v, want the existing file's 0600", perm)
	}
	assertOnlyFiles(t, dir, "apply.lock.json")
}

func TestWriteFileAtomicFailureLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	// A folder where the file should be makes the rename fail after the
	// temporary file was written.
	path := filepath.Join(dir, "apply.lock.json")
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(path, "keep"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeFileAtomic(path, []byte("data"), 0o644); err == nil {
		t.Fatal("writeFileAtomic over a non-empty folder succeeded, want an error")
	}
	assertOnlyFiles(t, dir, "apply.lock.json")
}

func assertOnlyFiles(t *testing.T, dir string, want ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("files in %s (-want +got):\n%s", dir, diff)
	}
}

func TestFileLockExcludesSecondRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "apply.lock.json")
	first, err := acquireFileLock(t.Context(), path, false, 0)
	if err != nil {
		t.Fatalf("first lock: %v", err)
	}
	defer first.Close()

	_, err = acquireFileLock(t.Context(), path, false, 100e6)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second exclusive lock error = %v, want ErrLocked", err)
	}
	_, err = acquireFileLock(t.Context(), path, true, 0)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("shared lock while held exclusively: error = %v, want ErrLocked", err)
	}

	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	shared1, err := acquireFileLock(t.Context(), path, true, 0)
	if err != nil {
		t.Fatalf("first shared lock: %v", err)
	}
	defer shared1.Close()
	shared2, err := acquireFileLock(t.Context(), path, true, 0)
	if err != nil {
		t.Fatalf("second shared lock: %v", err)
	}
	defer shared2.Close()
}

func TestLockKeyID(t *testing.T) {
	a := lockKeyID([]byte("key one"))
	if a != lockKeyID([]byte("key one")) {
		t.Error("lockKeyID is not deterministic")
	}
	if a == lockKeyID([]byte("key two")) {
		t.Error("lockKeyID is the same for two keys")
	}
	if len(a) != 16 {
		t.Errorf("lockKeyID length = %d, want 16", len(a))
	}
}

func TestPendingTime(t *testing.T) {
	tests := []struct {
		in, want time.Time
	}{
		{time.Date(2026, 3, 1, 12, 0, 0, 250e6, time.UTC), time.Date(2026, 3, 1, 12, 0, 0, 250e6, time.UTC)},
		{time.Date(2026, 3, 1, 12, 0, 0, 250e6+1, time.UTC), time.Date(2026, 3, 1, 12, 0, 0, 251e6, time.UTC)},
		{time.Date(2026, 3, 1, 13, 0, 0, 0, time.FixedZone("CET", 3600)), time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		got := pendingTime(tt.in)
		if !got.Equal(tt.want) || got.Location() != time.UTC {
			t.Errorf("pendingTime(%v) = %v, want %v in UTC, never earlier than the input", tt.in, got, tt.want)
		}
	}
}

func TestEntryKey(t *testing.T) {
	key := []byte("lock key")
	a := entryKey(key, "salt-a")
	if !bytes.Equal(a, entryKey(key, "salt-a")) {
		t.Error("entryKey is not deterministic")
	}
	if bytes.Equal(a, entryKey(key, "salt-b")) {
		t.Error("entryKey is the same for two salts")
	}
	if bytes.Equal(a, entryKey([]byte("other key"), "salt-a")) {
		t.Error("entryKey is the same for two lock keys")
	}
	if s1, s2 := newSalt(), newSalt(); s1 == s2 || len(s1) != 26 {
		t.Errorf("newSalt() = %q, %q; want two different 26-character salts", s1, s2)
	}
}
