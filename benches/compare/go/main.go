// Go implementation of the gorun comparison workloads (WORKLOADS.md) and of
// the channel matrix described in ../README.md. Standard library only.
//
// Usage: gobench <workload> [--quick]
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const impl = "go"

var units = map[string]string{
	"spawn_join":    "ns/task",
	"parked_memory": "bytes/task",
	"pingpong":      "ns/roundtrip",
	"mpmc":          "ns/msg",
	"pipeline":      "ns/item",
	"select4":       "ns/select",
	"timers":        "ms",
	"ctx_cancel":    "us",
	"tcp_echo":      "round_trips_per_sec",
	"steal":         "percent",
	"hog_latency":   "ms",
}

const matrixUnit = "ns/msg"
const matrixThreads = 4

type sizes struct {
	spawnJoinN, parkedN               int
	pingpongN, mpmcPerProducer        uint64
	pipelineN, select4PerProducer     uint64
	timersN, ctxChildren, ctxLeaves   int
	tcpClients, tcpRounds, stealTasks int
	stealIters                        uint64
	hogDuration                       time.Duration
	hogTicks, matrixMessages          int
}

func newSizes(quick bool) sizes {
	if quick {
		return sizes{10000, 10000, 10000, 10000, 10000, 2500, 1000, 10, 10, 50, 100, 200, 2000, 100 * time.Millisecond, 100, 10000}
	}
	return sizes{1000000, 1000000, 1000000, 1000000, 1000000, 250000, 100000, 100, 100, 50, 10000, 2000, 200000, time.Second, 100, 1000000}
}

var (
	workload string
	unit     string
	sz       sizes
)

// outcome of a workload: a value, or n/a with a reason.
type outcome struct {
	value float64
	na    string
}

func val(v float64) outcome { return outcome{value: v} }
func na(why string) outcome { return outcome{na: why} }
func diag(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "%s %s: %s\n", workload, impl, fmt.Sprintf(format, a...))
}

func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "VERIFICATION FAILED: %s\n", fmt.Sprintf(format, a...))
	os.Exit(3)
}

func main() {
	quick := false
	for _, a := range os.Args[1:] {
		if a == "--quick" {
			quick = true
		} else if workload == "" {
			workload = a
		} else {
			fmt.Fprintf(os.Stderr, "go: unexpected argument %q\n", a)
			os.Exit(2)
		}
	}
	if workload == "" {
		fmt.Fprintln(os.Stderr, "usage: gobench <workload> [--quick]")
		os.Exit(2)
	}
	var ok bool
	unit, ok = units[workload]
	var mkind string
	var mcap int
	if !ok {
		mkind, mcap, ok = parseMatrix(workload)
		unit = matrixUnit
	}
	if !ok {
		fmt.Fprintf(os.Stderr, "go: unknown workload %q\n", workload)
		os.Exit(2)
	}
	sz = newSizes(quick)
	// The root goroutine runs the workload; main only waits for it.
	done := make(chan outcome)
	go func() {
		var o outcome
		switch workload {
		case "spawn_join":
			o = spawnJoin()
		case "parked_memory":
			o = parkedMemory()
		case "pingpong":
			o = pingpong()
		case "mpmc":
			o = mpmc()
		case "pipeline":
			o = pipeline()
		case "select4":
			o = select4()
		case "timers":
			o = timers()
		case "ctx_cancel":
			o = ctxCancel()
		case "tcp_echo":
			o = tcpEcho()
		case "steal":
			o = steal()
		case "hog_latency":
			o = hogLatency()
		default:
			o = matrix(mkind, mcap)
		}
		done <- o
	}()
	o := <-done
	if o.na != "" {
		fmt.Printf("%s %s n/a %s\n", workload, impl, unit)
		fmt.Fprintf(os.Stderr, "%s %s: n/a: %s\n", workload, impl, o.na)
	} else {
		fmt.Printf("%s %s %.2f %s\n", workload, impl, o.value, unit)
	}
	os.Exit(0)
}

func parseMatrix(name string) (string, int, bool) {
	rest, ok := strings.CutPrefix(name, "chan_")
	if !ok {
		return "", 0, false
	}
	i := strings.LastIndexByte(rest, '_')
	if i < 0 {
		return "", 0, false
	}
	kind, capS := rest[:i], rest[i+1:]
	c, err := strconv.Atoi(capS)
	if err != nil || (c != 0 && c != 1 && c != 1000) {
		return "", 0, false
	}
	switch kind {
	case "seq", "spsc", "mpsc", "mpmc", "select_rx", "select_both":
		return kind, c, true
	}
	return "", 0, false
}

func perNs(d time.Duration, n uint64) float64 { return float64(d.Nanoseconds()) / float64(n) }

func sumBelow(n uint64) uint64 {
	if n%2 == 0 {
		return (n / 2) * (n - 1)
	}
	return n * ((n - 1) / 2)
}

func rssBytes() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		panic(err)
	}
	f := strings.Fields(string(b))
	pages, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		panic(err)
	}
	return pages * 4096
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// waitStarted polls counter every 1 ms until it equals n, then settles 10 ms.
func waitStarted(counter *atomic.Int64, n int64) {
	for counter.Load() != n {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(10 * time.Millisecond)
}

// 1. spawn_join
func spawnJoin() outcome {
	n := sz.spawnJoinN
	var counter atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			counter.Add(1)
			wg.Done()
		}()
	}
	wg.Wait()
	el := time.Since(start)
	if got := counter.Load(); got != int64(n) {
		fail("counter %d != %d", got, n)
	}
	return val(perNs(el, uint64(n)))
}

// 2. parked_memory
func parkedMemory() outcome {
	n := sz.parkedN
	var started, finished atomic.Int64
	base := rssBytes()
	chans := make([]chan struct{}, n)
	for i := 0; i < n; i++ {
		c := make(chan struct{})
		chans[i] = c
		go func() {
			started.Add(1)
			<-c
			finished.Add(1)
		}()
	}
	waitStarted(&started, int64(n))
	rss := rssBytes()
	for _, c := range chans {
		c <- struct{}{}
	}
	for finished.Load() != int64(n) {
		time.Sleep(time.Millisecond)
	}
	diag("base_rss=%d rss=%d", base, rss)
	return val((float64(rss) - float64(base)) / float64(n))
}

// 3. pingpong
func pingpong() outcome {
	n := sz.pingpongN
	c1 := make(chan uint64)
	c2 := make(chan uint64)
	bDone := make(chan struct{})
	start := time.Now()
	go func() {
		for v := range c1 {
			c2 <- v
		}
		close(bDone)
	}()
	for i := uint64(0); i < n; i++ {
		c1 <- i
		if w := <-c2; w != i {
			fail("pingpong got %d, want %d", w, i)
		}
	}
	close(c1)
	<-bDone
	return val(perNs(time.Since(start), n))
}

// 4. mpmc
func mpmc() outcome {
	m := sz.mpmcPerProducer
	ch := make(chan uint64, 128)
	var pwg, cwg sync.WaitGroup
	sums := make([]uint64, 4)
	start := time.Now()
	pwg.Add(4)
	for p := 0; p < 4; p++ {
		go func() {
			for v := uint64(0); v < m; v++ {
				ch <- v
			}
			pwg.Done()
		}()
	}
	cwg.Add(4)
	for c := 0; c < 4; c++ {
		go func(c int) {
			var s uint64
			for v := range ch {
				s += v
			}
			sums[c] = s
			cwg.Done()
		}(c)
	}
	pwg.Wait()
	close(ch)
	cwg.Wait()
	el := time.Since(start)
	var total uint64
	for _, s := range sums {
		total += s
	}
	if want := 4 * sumBelow(m); total != want {
		fail("mpmc total %d != %d", total, want)
	}
	return val(perNs(el, 4*m))
}

// 5. pipeline
func pipeline() outcome {
	n := sz.pipelineN
	jobs := make(chan uint64, 64)
	results := make(chan uint64, 64)
	var gwg, wwg sync.WaitGroup
	start := time.Now()
	gwg.Add(1)
	go func() {
		for x := uint64(0); x < n; x++ {
			jobs <- x
		}
		close(jobs)
		gwg.Done()
	}()
	wwg.Add(8)
	for w := 0; w < 8; w++ {
		go func() {
			for x := range jobs {
				results <- x * x
			}
			wwg.Done()
		}()
	}
	go func() {
		wwg.Wait()
		close(results)
	}()
	var sum uint64
	for v := range results {
		sum += v
	}
	gwg.Wait()
	wwg.Wait()
	el := time.Since(start)
	// Σ x² for x < n (wrapping, like the Rust side), computed after the region.
	var want uint64
	for x := uint64(0); x < n; x++ {
		want += x * x
	}
	if sum != want {
		fail("pipeline sum %d != %d", sum, want)
	}
	return val(perNs(el, n))
}

// 6. select4
func select4() outcome {
	m := sz.select4PerProducer
	chs := make([]chan uint64, 4)
	for i := range chs {
		chs[i] = make(chan uint64, 16)
	}
	start := time.Now()
	for p := 0; p < 4; p++ {
		go func(c chan uint64) {
			for v := uint64(0); v < m; v++ {
				c <- v
			}
			close(c)
		}(chs[p])
	}
	c0, c1, c2, c3 := chs[0], chs[1], chs[2], chs[3]
	var count, sum, selects uint64
	for c0 != nil || c1 != nil || c2 != nil || c3 != nil {
		selects++
		select {
		case v, ok := <-c0:
			if !ok {
				c0 = nil
			} else {
				count++
				sum += v
			}
		case v, ok := <-c1:
			if !ok {
				c1 = nil
			} else {
				count++
				sum += v
			}
		case v, ok := <-c2:
			if !ok {
				c2 = nil
			} else {
				count++
				sum += v
			}
		case v, ok := <-c3:
			if !ok {
				c3 = nil
			} else {
				count++
				sum += v
			}
		}
	}
	el := time.Since(start)
	if count != 4*m {
		fail("select4 count %d != %d", count, 4*m)
	}
	if want := 4 * sumBelow(m); sum != want {
		fail("select4 sum %d != %d", sum, want)
	}
	diag("select_calls=%d", selects)
	return val(perNs(el, 4*m))
}

// 7. timers
func timers() outcome {
	n := sz.timersN
	var wg sync.WaitGroup
	cpu0 := cpuTime()
	start := time.Now()
	wg.Add(n)
	for i := 0; i < n; i++ {
		d := time.Duration(i%100+1) * time.Millisecond
		go func() {
			time.Sleep(d)
			wg.Done()
		}()
	}
	wg.Wait()
	el := time.Since(start)
	cpu := cpuTime() - cpu0
	elMs := float64(el.Nanoseconds()) / 1e6
	diag("elapsed_ms=%.2f cpu_ms=%.2f", elMs, float64(cpu.Nanoseconds())/1e6)
	return val(elMs - 100)
}

// 8. ctx_cancel
func ctxCancel() outcome {
	nc, nl := sz.ctxChildren, sz.ctxLeaves
	total := nc * nl
	root, cancel := context.WithCancel(context.Background())
	var cancels []context.CancelFunc
	var leaves []context.Context
	for i := 0; i < nc; i++ {
		mid, mc := context.WithCancel(root)
		cancels = append(cancels, mc)
		for j := 0; j < nl; j++ {
			leaf, lc := context.WithCancel(mid)
			cancels = append(cancels, lc)
			leaves = append(leaves, leaf)
		}
	}
	var waiting atomic.Int64
	var wg sync.WaitGroup
	wg.Add(total)
	for _, leaf := range leaves {
		go func(ctx context.Context) {
			waiting.Add(1)
			<-ctx.Done()
			wg.Done()
		}(leaf)
	}
	waitStarted(&waiting, int64(total))
	start := time.Now()
	cancel()
	wg.Wait()
	el := time.Since(start)
	for _, c := range cancels {
		c()
	}
	return val(float64(el.Nanoseconds()) / 1e3)
}

// 9. tcp_echo
func tcpEcho() outcome {
	clients, rounds := sz.tcpClients, sz.tcpRounds
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	addr := ln.Addr().String()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				fail("accept: %v", err)
			}
			c.(*net.TCPConn).SetNoDelay(true)
			go func(c net.Conn) {
				buf := make([]byte, 4096)
				for {
					n, err := c.Read(buf)
					if n > 0 {
						if _, werr := c.Write(buf[:n]); werr != nil {
							break
						}
					}
					if err != nil {
						break
					}
				}
				c.Close()
			}(c)
		}
	}()
	var wg sync.WaitGroup
	start := time.Now()
	wg.Add(clients)
	for ci := 0; ci < clients; ci++ {
		go func(ci int) {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				panic(err)
			}
			c.(*net.TCPConn).SetNoDelay(true)
			msg := make([]byte, 64)
			back := make([]byte, 64)
			for r := 0; r < rounds; r++ {
				for k := range msg {
					msg[k] = byte(ci)
				}
				msg[0] = byte(r % 256)
				if _, err := c.Write(msg); err != nil {
					panic(err)
				}
				if _, err := io.ReadFull(c, back); err != nil {
					panic(err)
				}
				if string(back) != string(msg) {
					fail("client %d round %d: echo mismatch", ci, r)
				}
			}
			c.Close()
		}(ci)
	}
	wg.Wait()
	el := time.Since(start)
	return val(float64(clients*rounds) / el.Seconds())
}

// 10. steal
var sink uint64

//go:noinline
func work(seed, iters uint64) uint64 {
	x := seed
	for k := uint64(0); k < iters; k++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

func steal() outcome {
	n, iters := sz.stealTasks, sz.stealIters
	t0 := time.Now()
	var acc uint64
	for i := 0; i < n; i++ {
		acc ^= work(uint64(i+1), iters)
	}
	serial := time.Since(t0)
	results := make([]uint64, n)
	var wg sync.WaitGroup
	t1 := time.Now()
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func(i int) {
			results[i] = work(uint64(i+1), iters)
			wg.Done()
		}(i)
	}
	wg.Wait()
	var acc2 uint64
	for _, r := range results {
		acc2 ^= r
	}
	parallel := time.Since(t1)
	sink ^= acc ^ acc2
	if acc != acc2 {
		fail("steal checksum %#x != %#x", acc2, acc)
	}
	diag("serial_ms=%.2f parallel_ms=%.2f checksum=%#x", float64(serial.Nanoseconds())/1e6, float64(parallel.Nanoseconds())/1e6, acc)
	return val(serial.Seconds() / (parallel.Seconds() * 2) * 100)
}

// 11. hog_latency
func hogLatency() outcome {
	runtime.GOMAXPROCS(1)
	hogFor, ticks := sz.hogDuration, sz.hogTicks
	epoch := time.Now()
	var aEnd atomic.Int64
	aEnd.Store(1<<63 - 1)
	var pairs uint64
	type rec struct{ t, late time.Duration }
	recs := make([]rec, 0, ticks)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		ch := make(chan uint64, 1)
		begin := time.Now()
		var i uint64
		for time.Since(begin) < hogFor {
			for k := 0; k < 100; k++ {
				ch <- i
				i = <-ch + 1
			}
			pairs += 100
		}
		aEnd.Store(int64(time.Since(epoch)))
		sink ^= i
	}()
	bSpawn := time.Since(epoch)
	go func() {
		defer wg.Done()
		t := bSpawn
		for k := 0; k < ticks; k++ {
			time.Sleep(time.Millisecond)
			now := time.Since(epoch)
			late := now - t - time.Millisecond
			if late < 0 {
				late = 0
			}
			recs = append(recs, rec{t, late})
			t = now
		}
	}()
	wg.Wait()
	end := time.Duration(aEnd.Load())
	var overlapped int
	var maxOver, maxAll time.Duration
	for _, r := range recs {
		if r.t < end {
			overlapped++
			maxOver = max(maxOver, r.late)
		}
		maxAll = max(maxAll, r.late)
	}
	diag("overlapping_iterations=%d a_pairs=%d max_lateness_all_ms=%.2f a_end_ms=%.2f",
		overlapped, pairs, float64(maxAll.Nanoseconds())/1e6, float64(end.Nanoseconds())/1e6)
	return val(float64(maxOver.Nanoseconds()) / 1e6)
}

// ---------------------------------------------------------------------------
// Channel matrix (crossbeam-channel's cross-language suite, see README.md).

func matrix(kind string, capacity int) outcome {
	n := sz.matrixMessages
	perTask := n / matrixThreads
	total := perTask * matrixThreads
	if kind == "seq" && capacity == 0 {
		return na("chan_seq with capacity 0: a single goroutine cannot rendezvous with itself (crossbeam runs seq only on buffered channels)")
	}
	start := time.Now()
	var sum uint64
	switch kind {
	case "seq":
		c := make(chan uint64, capacity)
		next := uint64(0)
		for sent := 0; sent < n; {
			batch := min(capacity, n-sent)
			for k := 0; k < batch; k++ {
				c <- uint64(sent + k)
			}
			for k := 0; k < batch; k++ {
				if v := <-c; v != next {
					fail("seq got %d want %d", v, next)
				}
				next++
			}
			sent += batch
		}
		return val(perNs(time.Since(start), uint64(n)))
	case "spsc":
		c := make(chan uint64, capacity)
		done := make(chan struct{})
		go func() {
			for i := 0; i < n; i++ {
				c <- uint64(i)
			}
			close(done)
		}()
		for i := 0; i < n; i++ {
			if v := <-c; v != uint64(i) {
				fail("spsc got %d want %d", v, i)
			}
		}
		<-done
		return val(perNs(time.Since(start), uint64(n)))
	case "mpsc":
		c := make(chan uint64, capacity)
		var wg sync.WaitGroup
		wg.Add(matrixThreads)
		for t := 0; t < matrixThreads; t++ {
			go func() {
				for i := 0; i < perTask; i++ {
					c <- uint64(i)
				}
				wg.Done()
			}()
		}
		for i := 0; i < total; i++ {
			sum += <-c
		}
		wg.Wait()
	case "mpmc":
		c := make(chan uint64, capacity)
		var wg sync.WaitGroup
		sums := make([]uint64, matrixThreads)
		wg.Add(2 * matrixThreads)
		for t := 0; t < matrixThreads; t++ {
			go func() {
				for i := 0; i < perTask; i++ {
					c <- uint64(i)
				}
				wg.Done()
			}()
			go func(t int) {
				var s uint64
				for i := 0; i < perTask; i++ {
					s += <-c
				}
				sums[t] = s
				wg.Done()
			}(t)
		}
		wg.Wait()
		for _, s := range sums {
			sum += s
		}
	case "select_rx":
		cs := make([]chan uint64, matrixThreads)
		for i := range cs {
			cs[i] = make(chan uint64, capacity)
		}
		var wg sync.WaitGroup
		wg.Add(matrixThreads)
		for t := 0; t < matrixThreads; t++ {
			go func(c chan uint64) {
				for i := 0; i < perTask; i++ {
					c <- uint64(i)
				}
				wg.Done()
			}(cs[t])
		}
		c0, c1, c2, c3 := cs[0], cs[1], cs[2], cs[3]
		for i := 0; i < total; i++ {
			select {
			case v := <-c0:
				sum += v
			case v := <-c1:
				sum += v
			case v := <-c2:
				sum += v
			case v := <-c3:
				sum += v
			}
		}
		wg.Wait()
	case "select_both":
		cs := make([]chan uint64, matrixThreads)
		for i := range cs {
			cs[i] = make(chan uint64, capacity)
		}
		c0, c1, c2, c3 := cs[0], cs[1], cs[2], cs[3]
		var wg sync.WaitGroup
		sums := make([]uint64, matrixThreads)
		wg.Add(2 * matrixThreads)
		for t := 0; t < matrixThreads; t++ {
			go func() {
				for i := 0; i < perTask; i++ {
					v := uint64(i)
					select {
					case c0 <- v:
					case c1 <- v:
					case c2 <- v:
					case c3 <- v:
					}
				}
				wg.Done()
			}()
			go func(t int) {
				var s uint64
				for i := 0; i < perTask; i++ {
					select {
					case v := <-c0:
						s += v
					case v := <-c1:
						s += v
					case v := <-c2:
						s += v
					case v := <-c3:
						s += v
					}
				}
				sums[t] = s
				wg.Done()
			}(t)
		}
		wg.Wait()
		for _, s := range sums {
			sum += s
		}
	}
	el := time.Since(start)
	if want := uint64(matrixThreads) * sumBelow(uint64(perTask)); sum != want {
		fail("matrix sum %d != %d", sum, want)
	}
	return val(perNs(el, uint64(total)))
}
