package hot

// misplaced has a directive in its body.
func misplaced() {
	// want +1 `//nfkit:hot must be a line of a function's doc comment \[directive\]`
	//nfkit:hot
}

// want +2 `//nfkit:cold needs a reason: why noReason is off the hot path \[directive\]`
//
//nfkit:cold
func noReason() {} // want noReason:"cold"

//nfkit:hots // want `unknown directive //nfkit:hots`
func typo() {}

// want +2 `unknown rule "nosuchrule"`
//
//nfkit:allow nosuchrule because
var _ = 1

// want +2 `//nfkit:allow needs a rule and a reason`
//
//nfkit:allow iface
var _ = 2

// want +3 `both //nfkit:hot and //nfkit:cold`
//
//nfkit:hot
//nfkit:cold it is both
func both() {} // want both:"hot"
