package decode

// Test-only views of how a template's records are read (internal/cmd/
// deadcheck keeps helpers that only tests use out of the package).

// specialized reports whether records are read by a generated
// straight-line reader for the exact layout rather than the compiled step
// list.
func (t *Template) specialized() bool { return t.shape != nil }

// classRead reports whether generated class readers read some of the
// normalized fields straight-line (see fields.Classes).
func (t *Template) classRead() bool { return len(t.classes) != 0 }
