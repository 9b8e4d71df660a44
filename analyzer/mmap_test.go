package analyzer

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMappedMatchesRead: a mapped file and the same bytes read from a pipe
// give the same output and messages, with CRLF line ends, blank and bad lines,
// and a last line without a newline.
func TestMappedMatchesRead(t *testing.T) {
	plain, err := os.ReadFile("testdata/flows.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	bad, err := os.ReadFile("testdata/bad.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	crlf := bytes.ReplaceAll(plain, []byte("\n"), []byte("\r\n"))
	noNL := bytes.TrimSuffix(plain, []byte("\n"))
	// Lines of real exporters damaged as a crash or a full disk leaves them: cut
	// short (and the next line right after), with bytes after the '}', or a
	// newline in a string.
	var damaged []byte
	for i, l := range inputLines(t) {
		switch {
		case len(l) == 0:
		case i%5 == 1:
			damaged = append(damaged, l[:len(l)*(i%7+1)/9]...)
		case i%5 == 2:
			damaged = append(append(damaged, l...), ` x`...)
		case i%5 == 3:
			if k := bytes.LastIndexByte(l, '"'); k > 0 {
				damaged = append(append(append(damaged, l[:k]...), '\n'), l[k:]...)
			}
		}
		damaged = append(append(damaged, l...), '\n')
	}
	dir := t.TempDir()
	for name, data := range map[string][]byte{
		"plain": plain, "crlf": crlf, "no final newline": noNL, "bad lines": bad,
		"blank": []byte("\n\n  \n"), "one line": plain[:bytes.IndexByte(plain, '\n')],
		"damaged": damaged,
		// Longer than the in-place reader looks ahead: read the usual way.
		"long line": append(append(append([]byte(`{"src_addr":"10.0.0.1","dst_addr":"10.0.0.2","x":"`),
			bytes.Repeat([]byte("a"), 100<<10)...), `"}`+"\n"...), plain...),
		// An unterminated string with no quote after it in the file.
		"unterminated": append(append([]byte{}, plain...), `{"src_addr":"10.0.0.1","dst_addr":"10.0.0.2","x":"abc`+"\n\n"...),
	} {
		file := writeFile(t, dir, strings.ReplaceAll(name, " ", "_"), data)
		for _, format := range []string{"table", "csv"} {
			mapped := runGolden(t, Config{Inputs: []string{file}, Output: format, Verbose: true, MaxErrors: 1 << 20})
			read := runGolden(t, Config{Inputs: []string{"-"}, Stdin: bytes.NewReader(data), Output: format, Verbose: true, MaxErrors: 1 << 20})
			read = strings.ReplaceAll(read, "<stdin>", file)
			if mapped != read {
				t.Errorf("%s, %s: mapped file gave\n%s\nreading gave\n%s", name, format, mapped, read)
			}
		}
	}
}

// TestMappedFileShrinks: a file cut short while it is mapped is read as far as
// it goes, reported and counted, instead of crashing the process (SIGBUS).
func TestMappedFileShrinks(t *testing.T) {
	plain, err := os.ReadFile("testdata/flows.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var data []byte
	for len(data) < 1<<20 {
		data = append(data, plain...)
	}
	name := filepath.Join(t.TempDir(), "flows.jsonl")
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mem := mapRegular(f)
	if mem == nil {
		t.Skip("files are not mapped on this system")
	}
	defer unmapFile(mem)
	if err := os.Truncate(name, 64<<10); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	a := &run{cfg: Config{Format: "auto", MaxErrors: 10}, stderr: &stderr}
	in := &inputState{a: a, name: name}
	in.lr = newMemLineReader(mem, nil)
	if !a.readMapped(in) {
		t.Fatalf("reading a file that shrank did not fault; read %d lines", a.sum.Lines)
	}
	if a.sum.Lines == 0 || a.sum.Lines*int64(len(plain))/int64(bytes.Count(plain, []byte("\n"))) > 80<<10 {
		t.Errorf("read %d lines of a file cut to 64 KiB", a.sum.Lines)
	}
}
