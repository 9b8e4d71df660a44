package hot

// Exported is hot.
//
//nfkit:hot
func Exported() int { return 1 } // want Exported:"hot"

// Cold is not.
//
//nfkit:cold for tests
func Cold() int { return 2 } // want Cold:"cold"

// Unmarked is neither.
func Unmarked() int { return 3 }
