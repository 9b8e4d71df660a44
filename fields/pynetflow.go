package fields

import _ "embed" // the python-netflow tables are data files

// The field-name tables of python-netflow 0.12.2 (bitkeks/python-netflow,
// MIT licence), whose collector writes them as JSON keys. They are kept as
// the data files they came in (fields/data/SOURCE.md), byte for byte and
// quirks included, because that output format depends on every name; gen
// parses them into the name tables of package pynetflow. Each file is
// tab-separated: '#' comment lines, a header line, one row per id.

// PyNetflowV9 is netflow/v9.py V9_FIELD_TYPES (fields/data/v9_field_types.tsv):
// columns id, name and ip_string (1 when python-netflow writes the value as
// an IP address string). Row 0 is the name of every type missing from the
// table.
//
//go:embed data/v9_field_types.tsv
var PyNetflowV9 string

// PyNetflowIPFIX is netflow/ipfix.py IPFIXFieldTypes.iana_field_types
// (fields/data/ipfix_field_types.tsv): columns id, name and data_type (the
// IANA abstract data type, which decides how python-netflow turns the bytes
// into a value; empty for a few rows).
//
//go:embed data/ipfix_field_types.tsv
var PyNetflowIPFIX string
