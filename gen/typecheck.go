package main

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/tools/go/packages"
)

// maxTypeErrors bounds the type errors typeCheck lists.
const maxTypeErrors = 10

// typeCheck type-checks the packages of the generated Go files as they
// would be with files' contents (given to the go command as an overlay:
// nothing is written), so that a generator bug fails with the generated
// file, line and compiler message before any file changes, instead of as
// a broken build afterwards.
func typeCheck(root string, files map[string][]byte) error {
	abs, err := filepath.Abs(root)
	if err != nil {
		return err
	}
	overlay := map[string][]byte{}
	dirs := map[string]bool{}
	for name, src := range files {
		if strings.HasSuffix(name, ".go") {
			overlay[filepath.Join(abs, filepath.FromSlash(name))] = src
			dirs["./"+path.Dir(name)] = true
		}
	}
	patterns := make([]string, 0, len(dirs))
	for d := range dirs {
		patterns = append(patterns, d)
	}
	sort.Strings(patterns)
	cfg := &packages.Config{
		Mode:    packages.NeedName | packages.NeedFiles | packages.NeedTypes | packages.NeedSyntax | packages.NeedTypesInfo,
		Dir:     abs,
		Overlay: overlay,
	}
	pkgs, err := packages.Load(cfg, patterns...)
	if err != nil {
		return fmt.Errorf("type-checking the generated packages: %w", err)
	}
	// Parse and type errors name the generated file; the go command's
	// own (compiling with the overlay) are shown only when there is
	// nothing else.
	var msgs, listMsgs []string
	for _, p := range pkgs {
		for _, e := range p.Errors {
			if e.Kind == packages.ListError || e.Kind == packages.UnknownError {
				listMsgs = append(listMsgs, e.Error())
				continue
			}
			msg := e.Error()
			if rel, err := filepath.Rel(abs, strings.SplitN(e.Pos, ":", 2)[0]); err == nil && e.Pos != "" {
				msg = filepath.ToSlash(rel) + strings.TrimPrefix(msg, strings.SplitN(e.Pos, ":", 2)[0])
			}
			msgs = append(msgs, msg)
		}
	}
	if len(msgs) == 0 {
		msgs = listMsgs
	}
	if len(msgs) == 0 {
		return nil
	}
	n := len(msgs)
	if n > maxTypeErrors {
		msgs = append(msgs[:maxTypeErrors], fmt.Sprintf("and %d more", n-maxTypeErrors))
	}
	return errors.New("the generated code does not compile (nothing was written):\n\t" + strings.Join(msgs, "\n\t"))
}
