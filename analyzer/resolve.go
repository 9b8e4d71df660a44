package analyzer

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Resolver looks up the name of an address (reverse DNS). Implementations must be
// safe for concurrent use.
type Resolver interface {
	LookupAddr(ctx context.Context, addr netip.Addr) (string, error)
}

// SystemResolver resolves through the system resolver (net.DefaultResolver).
type SystemResolver struct{}

// LookupAddr returns the first PTR name of addr without the trailing dot.
func (SystemResolver) LookupAddr(ctx context.Context, addr netip.Addr) (string, error) {
	names, err := net.DefaultResolver.LookupAddr(ctx, addr.String())
	if err != nil {
		return "", err
	}
	if len(names) == 0 {
		return "", errors.New("no PTR record")
	}
	return strings.TrimSuffix(names[0], "."), nil
}

// Names resolves addresses concurrently with a fixed pool of workers (the bound on
// lookups in flight), a timeout per lookup and a cache, so that each distinct
// address is looked up once. Lookups start with Prefetch and are awaited with
// Name. After many timeouts in a row the resolver is taken to be unreachable and
// the remaining addresses are left unresolved.
type Names struct {
	r       Resolver
	timeout time.Duration

	mu      sync.Mutex
	cond    *sync.Cond
	cache   map[netip.Addr]*nameEntry
	queue   []*nameEntry
	closed  bool
	wg      sync.WaitGroup
	stopped atomic.Bool // circuit breaker tripped

	timeoutsInRow atomic.Int64
	Lookups       atomic.Int64 // lookups done
	Failures      atomic.Int64 // lookups that failed or timed out
}

type nameEntry struct {
	addr netip.Addr
	name string
	done chan struct{}
}

// maxTimeoutsInRow trips the circuit breaker.
const maxTimeoutsInRow = 200

// NewNames starts workers goroutines resolving through r.
func NewNames(r Resolver, workers int, timeout time.Duration) *Names {
	if workers < 1 {
		workers = 1
	}
	n := &Names{r: r, timeout: timeout, cache: map[netip.Addr]*nameEntry{}}
	n.cond = sync.NewCond(&n.mu)
	n.wg.Add(workers)
	for i := 0; i < workers; i++ {
		go n.worker()
	}
	return n
}

func (n *Names) worker() {
	defer n.wg.Done()
	for {
		n.mu.Lock()
		for len(n.queue) == 0 && !n.closed {
			n.cond.Wait()
		}
		if len(n.queue) == 0 {
			n.mu.Unlock()
			return
		}
		e := n.queue[0]
		n.queue[0] = nil
		n.queue = n.queue[1:]
		n.mu.Unlock()
		n.resolve(e)
	}
}

func (n *Names) resolve(e *nameEntry) {
	defer close(e.done)
	if n.stopped.Load() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), n.timeout)
	name, err := n.r.LookupAddr(ctx, e.addr)
	timedOut := ctx.Err() != nil
	cancel()
	n.Lookups.Add(1)
	if err != nil {
		n.Failures.Add(1)
		if timedOut && n.timeoutsInRow.Add(1) >= maxTimeoutsInRow {
			n.stopped.Store(true)
		}
		return
	}
	n.timeoutsInRow.Store(0)
	e.name = name
}

// Prefetch starts resolving a (once per address) and returns at once.
func (n *Names) Prefetch(a netip.Addr) *nameEntry {
	n.mu.Lock()
	e, ok := n.cache[a]
	if !ok {
		e = &nameEntry{addr: a, done: make(chan struct{})}
		n.cache[a] = e
		n.queue = append(n.queue, e)
		n.cond.Signal()
	}
	n.mu.Unlock()
	return e
}

// Name waits for the lookup of a and returns its name, or "" if it has none.
func (n *Names) Name(a netip.Addr) string {
	e := n.Prefetch(a)
	<-e.done
	return e.name
}

// Unreachable reports whether the circuit breaker stopped the lookups.
func (n *Names) Unreachable() bool { return n.stopped.Load() }

// Close stops the workers once the queue is empty.
func (n *Names) Close() {
	n.mu.Lock()
	n.closed = true
	n.cond.Broadcast()
	n.mu.Unlock()
	n.wg.Wait()
}
