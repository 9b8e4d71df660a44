package hotcheck

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// hotEntryPoints are functions of the module that must stay marked
// //nfkit:hot: the entry points of the per-packet path, from which the
// callee rule reaches the rest. Removing a mark here would silently take
// a whole subtree out of the guards.
var hotEntryPoints = map[string][]string{
	"decode":    {"Decoder.Decode", "Decoder.Retry", "DecodeV1", "DecodeV5", "DecodeV7", "Decoder.decodeSets", "Decoder.decodeData", "Decoder.finish", "Template.readRecord", "FieldIter.Next", "readSteps"},
	"flowjson":  {"AppendRecords", "AppendRecord", "AppendFlow", "AppendField", "AppendValue"},
	"pynetflow": {"AppendPacket"},
	"collector": {"worker.handle", "worker.emit", "JSONLines.AppendPacket", "PythonNetflow.AppendPacket"},
}

// TestEntryPointsMarked: the per-packet entry points carry //nfkit:hot,
// and so does every generated reader (gen writes the directive).
func TestEntryPointsMarked(t *testing.T) {
	for dir, names := range hotEntryPoints {
		marks := dirMarks(t, filepath.Join("..", "..", dir))
		for _, n := range names {
			if !marks[n] {
				t.Errorf("%s.%s is not marked //nfkit:hot", dir, n)
			}
		}
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filepath.Join("..", "..", "decode", "shapes_gen.go"), nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	readers := 0
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && strings.HasPrefix(fd.Name.Name, "read") {
			readers++
			if !isHot(fd) {
				t.Errorf("generated reader %s is not marked //nfkit:hot", fd.Name.Name)
			}
		}
	}
	if readers == 0 {
		t.Error("no generated readers in decode/shapes_gen.go")
	}
}

// dirMarks returns the functions of a package directory's non-test files
// marked //nfkit:hot, named f or T.m.
func dirMarks(t *testing.T, dir string) map[string]bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files in %s: %v", dir, err)
	}
	marks := map[string]bool{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || !isHot(fd) {
				continue
			}
			marks[strings.NewReplacer("(*", "", ")", "").Replace(funcName(fd))] = true
		}
	}
	return marks
}
