package fields

const N = 1
