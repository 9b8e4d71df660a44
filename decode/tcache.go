package decode

// templateCache keeps compiled templates that were replaced by a
// redefinition, and those compiled while the Decoder knows more than one
// exporter, keyed by their definition without the template ID, so that a
// template defined again as one seen before (routers alternating
// definitions, an exporter restarting with the templates it had, the
// exporters of one model and configuration sending the same definitions,
// under the same ID or another) shares the compiled, immutable parts
// instead of compiling them again: a hit allocates the template's own
// header and definition only.
//
// It is bounded in entries (Limits.MaxCachedTemplates) and in fields
// (maxCacheFields): what it holds does not count against Limits, so the
// bound is what a template flood can make it keep, and a full cache
// evicts arbitrary entries (Go's randomized map order). A Decoder of one
// exporter that never sees a redefinition keeps no cache at all.
type templateCache struct {
	m      map[string]*Template
	fields int    // fields of the cached templates
	key    []byte // scratch: the key being looked up
}

// Bounds of templateCache: the default number of entries, and the fields
// of all entries.
const (
	maxCacheTemplates = 256
	maxCacheFields    = 16 << 10
)

// keyOf builds the cache key of a template record def (ID first) of the
// given version and kind in c.key.
func (c *templateCache) keyOf(version uint16, options bool, def []byte) []byte {
	k := append(c.key[:0], byte(version))
	if options {
		k[0] |= 0x80
	}
	k = append(k, def[2:]...)
	c.key = k
	return k
}

// get returns a template of the exporter's domain and ID that has the
// definition def (version and kind as given), made from a cached
// compilation, or nil.
func (c *templateCache) get(version uint16, domain uint32, id uint16, options bool, def []byte) *Template {
	if len(c.m) == 0 || len(def) < 4 {
		return nil
	}
	src := c.m[string(c.keyOf(version, options, def))]
	if src == nil {
		return nil
	}
	return src.clone(domain, id, def)
}

// put caches t, a template being replaced, keeping at most max entries.
func (c *templateCache) put(t *Template, max int) {
	if max <= 0 || len(t.def) < 4 || len(t.fields) > maxCacheFields {
		return
	}
	k := c.keyOf(t.Version, t.options, t.def)
	if _, ok := c.m[string(k)]; ok {
		return
	}
	for len(c.m) > 0 && (len(c.m) >= max || c.fields+len(t.fields) > maxCacheFields) {
		for key, v := range c.m {
			delete(c.m, key)
			c.fields -= len(v.fields)
			break
		}
	}
	if c.m == nil {
		c.m = make(map[string]*Template)
	}
	c.m[string(k)] = t
	c.fields += len(t.fields)
}

// clone returns a template of (domain, id) with the definition def (the
// same as t's but for the ID) sharing t's compiled parts, which are
// immutable.
func (t *Template) clone(domain uint32, id uint16, def []byte) *Template {
	var (
		c *Template
		d []byte
	)
	// The header and its definition in one allocation.
	switch n := len(def); {
	case n <= 64:
		b := new(struct {
			t Template
			d [64]byte
		})
		c, d = &b.t, b.d[:n:n]
	case n <= 128:
		b := new(struct {
			t Template
			d [128]byte
		})
		c, d = &b.t, b.d[:n:n]
	case n <= 256:
		b := new(struct {
			t Template
			d [256]byte
		})
		c, d = &b.t, b.d[:n:n]
	default:
		c, d = new(Template), make([]byte, n)
	}
	*c = *t
	copy(d, def)
	c.def, c.Domain, c.ID = d, domain, id
	c.older, c.newer = nil, nil
	if t.app != nil {
		c.app = &appLink{id: t.app.id, name: t.app.name}
	}
	return c
}
