package main

import (
	"slices"
	"strings"
	"testing"
)

// The FlowMessage mapping refuses a schema key without a field, a number
// used twice and a key that does not exist.
func TestCheckPBFields(t *testing.T) {
	src := pbSources()
	if err := checkPBFields(pbFields, src); err != nil {
		t.Fatalf("checkPBFields(pbFields) = %v", err)
	}
	i := slices.IndexFunc(pbFields, func(f pbField) bool { return f.Key == "dst_port" })
	for _, c := range []struct {
		name string
		fs   []pbField
		want string
	}{
		{"missing key", slices.Delete(slices.Clone(pbFields), i, i+1), "[dst_port] have no FlowMessage field"},
		{"number twice", append(slices.Clone(pbFields), pbField{Num: 22, Name: "again", Key: "dst_port"}), "field 22 twice"},
		{"unknown key", append(slices.Clone(pbFields), pbField{Num: 2000, Name: "x", Key: "nope"}), `no schema key "nope"`},
		{"reserved number", append(slices.Clone(pbFields), pbField{Num: 19500, Name: "x", Key: "bytes"}), "not a valid field number"},
	} {
		err := checkPBFields(c.fs, src)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: checkPBFields = %v, want an error with %q", c.name, err, c.want)
		}
	}
}

// Tags are the varint of number<<3|wire type.
func TestPBTag(t *testing.T) {
	for _, c := range []struct {
		f    pbField
		want []byte
	}{
		{pbField{Num: 1}, []byte{0x08}},
		{pbField{Num: 6, Wire: pbBytes}, []byte{0x32}},
		{pbField{Num: 100, Wire: pbBytes}, []byte{0xa2, 0x06}},
		{pbField{Num: 1000}, []byte{0xc0, 0x3e}},
	} {
		if got := pbTag(c.f); !slices.Equal(got, c.want) {
			t.Errorf("pbTag(%d) = %x, want %x", c.f.Num, got, c.want)
		}
	}
}
