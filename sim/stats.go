package sim

import (
	"fmt"
	"time"
)

// Counter counts messages and their modelled bytes.
type Counter struct {
	Messages uint64
	Bytes    uint64
}

// Add counts one message of size bytes.
func (c *Counter) Add(size int) { c.Messages++; c.Bytes += uint64(size) }

// Stats are a run's counters. Slices indexed by MsgType have MsgTypes()
// entries; slices indexed by link have n*n entries, index from*n+to.
type Stats struct {
	Events  uint64 // processed events (deliveries, timers, crashes, ...)
	SimTime Time   // virtual time of the last processed event

	Sent       Counter // network sends accepted (self-sends excluded)
	Delivered  Counter // network deliveries (duplicates included)
	Dropped    Counter // network drops, any reason
	Duplicated Counter // extra copies made by the network
	Local      Counter // self-deliveries, never on the network

	SentByType      []Counter
	DeliveredByType []Counter
	DroppedByType   []Counter
	LocalByType     []Counter

	SentByLink    []Counter
	DroppedByLink []Counter

	// QueueWait sums, over network sends, the time a message waited behind
	// its sender's earlier messages before its transmission started (only
	// with a bandwidth limit); MaxQueueWait is the longest such wait.
	QueueWait    time.Duration
	MaxQueueWait time.Duration
	// IngressWait sums, over messages that reached a rate-limited ingress
	// link (IngressQueued of them), the time each waited there behind
	// earlier arrivals; MaxIngressWait is the longest such wait.
	IngressWait    time.Duration
	MaxIngressWait time.Duration
	IngressQueued  uint64

	// TraceHash is the running hash of the canonical encoding of every
	// trace record, in order.
	TraceHash uint64
}

// HashHex formats TraceHash as 16 hex digits.
func (s *Stats) HashHex() string { return fmt.Sprintf("%016x", s.TraceHash) }
