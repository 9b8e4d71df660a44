package collector

import (
	"bufio"
	"errors"
	"io"
	"io/fs"
	"net/netip"
	"os"

	"github.com/nfkit/nfkit/decode"
)

// Template persistence (--templates): the workers' templates, sampling
// rates and system init times are saved every TemplatesSaveInterval and at
// exit, and restored at start, so that data right after a restart decodes.
// The file is written as a stream, worker by worker, through a new
// temporary file renamed into place; exporters idle for ExporterIdle are
// left out.

// loadTemplates restores the saved state, each exporter into the worker
// that owns it.
func (c *Collector) loadTemplates() {
	f, err := os.Open(c.cfg.TemplatesFile)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	if err != nil {
		c.log.Warn("cannot read the templates file; starting without", "file", c.cfg.TemplatesFile, "err", err)
		return
	}
	defer f.Close()
	err = decode.ReadState(bufio.NewReaderSize(f, 1<<20), func(addr netip.Addr) *decode.Decoder {
		return &c.workerFor(addr).dec
	})
	if err != nil {
		c.log.Warn("templates file partly unusable", "file", c.cfg.TemplatesFile, "err", err)
	}
	n := 0
	for _, w := range c.workers {
		for _, e := range w.dec.Exporters() {
			w.exporters.get(w, e.Exporter, e.Active).stats.templates.Store(int64(e.Templates))
			n += e.Templates
		}
		c.savedGens = append(c.savedGens, w.dec.StateVersion())
	}
	c.log.Info("templates restored", "file", c.cfg.TemplatesFile, "templates", n)
}

// saveTemplates writes the workers' state, unless nothing changed since
// the last save. With running true the workers write it on their own
// goroutines; otherwise they have stopped.
func (c *Collector) saveTemplates(running bool) error {
	c.saveMu.Lock()
	defer c.saveMu.Unlock()
	gens := make([]uint64, len(c.workers))
	for i, w := range c.workers {
		gens[i] = w.dec.StateVersion()
	}
	if equalGens(gens, c.savedGens) {
		return nil
	}
	since := c.now().Add(-c.cfg.ExporterIdle).UnixNano()
	err := writeFileAtomic(c.cfg.TemplatesFile, func(out io.Writer) error {
		for _, w := range c.workers {
			var err error
			write := func() { err = w.dec.WriteState(out, since) }
			if running {
				w.call(write)
			} else {
				write()
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		c.metrics.templateSaveErrs.Add(1)
		return err
	}
	c.metrics.templateSaves.Add(1)
	c.savedGens = gens
	return nil
}

func equalGens(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// saveTemplatesNow saves the template state while the collector runs
// (every TemplatesSaveInterval, so that a crash loses at most that much).
func (c *Collector) saveTemplatesNow() {
	if err := c.saveTemplates(true); err != nil {
		c.log.Error("saving templates failed", "file", c.cfg.TemplatesFile, "err", err)
	}
}
