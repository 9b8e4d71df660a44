package decode // want `table_gen.go is named as a generated file but has no "Code generated ... DO NOT EDIT." header`

var table = [1]int{}
