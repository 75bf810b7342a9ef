package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// The ESXi tools run inside serve. STATEDIR/bin/{vim-cmd,vmkfstools,esxcli} are links to the tiny esxtool binary
// (testbed/esxtool, stdlib only) which connects to STATEDIR/tool.sock, sends argv, cwd and env, and relays the
// output and the exit code; starting the 26 MB cesobed binary per call cost ~11 ms of Go package init.
//
// Wire protocol (both directions): frames of 1 byte type, 4 bytes big-endian length, payload.
//   esxtool -> serve: 'R' request (first frame, once): NUL-separated cwd, argc (decimal), argv[0..argc-1], env
//                     entries "K=V" (NUL cannot occur in any of them, so any bytes pass unchanged);
//                     'd' stdin data; 'z' stdin EOF (only as answers to 'i').
//   serve -> esxtool: 'o' stdout bytes; 'e' stderr bytes; 'i' "send me stdin" (payload: 4-byte max length);
//                     'x' exit code (4 bytes), last frame.
// Stdin is read only when a tool asks for it, so a persistent shell's next command lines are never swallowed.

const toolSock = "tool.sock"

type toolRequest struct {
	Argv []string
	Cwd  string
	Env  []string
}

func parseToolRequest(p []byte) (*toolRequest, error) {
	f := strings.Split(string(p), "\x00")
	if len(f) < 3 {
		return nil, fmt.Errorf("short request")
	}
	n, err := strconv.Atoi(f[1])
	if err != nil || n < 1 || 2+n > len(f) {
		return nil, fmt.Errorf("bad argc")
	}
	return &toolRequest{Cwd: f[0], Argv: f[2 : 2+n], Env: f[2+n:]}, nil
}

// shared is the logged-in internal client all tool requests of this serve process use.
type shared struct {
	mu sync.Mutex
	st *State
	c  *vim25.Client
	rt soap.RoundTripper // in-process vcsim (no HTTP, no XML); nil: HTTP over soap.sock
}

// inprocRT calls vcsim's Service in-process, under vcsim's internal session: the same dispatch and locking as a SOAP
// request, without HTTP and XML (a tool call costs well under a millisecond instead of ~1.5 ms). The calls are
// logged as internal soap methods, as the soap.sock path logs them (front.serve), so the call log is unchanged.
type inprocRT struct {
	svc   *simulator.Service
	front *Front
}

func (r *inprocRT) RoundTrip(ctx context.Context, req, res soap.HasFault) (err error) {
	// A vcsim panic (e.g. a NIC on a portgroup it does not know) must not take serve down; over HTTP net/http
	// recovered it and the caller saw a broken connection. Here the caller gets a SystemError fault.
	defer func() {
		if p := recover(); p != nil {
			log.Printf("cesobed: vcsim panic in %T: %v\n%s", req, p, debug.Stack())
			msg := fmt.Sprintf("A general system error occurred: %v", p)
			sf := &soap.Fault{Code: "ServerFaultCode", String: msg}
			sf.Detail.Fault = types.SystemError{Reason: msg}
			err = soap.WrapSoapFault(sf)
		}
	}()
	method := ""
	if v := reflect.ValueOf(req).Elem().FieldByName("Req"); v.IsValid() && !v.IsNil() {
		method = v.Elem().Type().Name()
	}
	after := func() {}
	if r.front.ready {
		m, this := thisOf(req)
		after = diskHook(r.front.St, m, this)
	}
	func() {
		defer after() // also when vcsim panics: diskMu must not stay held
		err = r.svc.RoundTrip(ctx, req, res)
	}()
	if soap.IsSoapFault(err) { // as decoded from XML: the fault detail is a value (types.NotFound), not a pointer
		sf := soap.ToSoapFault(err)
		if v := reflect.ValueOf(sf.Detail.Fault); v.Kind() == reflect.Ptr && !v.IsNil() {
			sf.Detail.Fault = v.Elem().Interface()
		}
	}
	if err == nil && method == "ReconfigVM_Task" { // vcsim appends extraConfig; a real host replaces (soaphooks.go)
		if v := reflect.ValueOf(req).Elem().FieldByName("Req"); v.IsValid() && !v.IsNil() {
			if rq, ok := v.Interface().(*types.ReconfigVM_Task); ok {
				fixExtraConfig(rq.This)
			}
		}
	}
	if r.front.ready {
		c := Call{Channel: "soap", Kind: "method", Name: method, Write: !readOnly[method], Internal: true}
		if err != nil {
			c.Fault = "SystemError"
			if soap.IsSoapFault(err) {
				if vf := soap.ToSoapFault(err).VimFault(); vf != nil {
					c.Fault = reflect.Indirect(reflect.ValueOf(vf)).Type().Name()
				}
			}
		}
		logCall(r.front.St.Dir, c)
	}
	return err
}

var sharedClient *shared

func (s *shared) get(ctx context.Context, t *Tool) *vim25.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c == nil && s.rt != nil {
		if c, err := vim25.NewClient(ctx, s.rt); err == nil {
			s.c = c
		}
	}
	if s.c == nil {
		c := newInternalClient(s.st)
		lt := &Tool{St: s.st, c: c}
		if lt.login(ctx) == nil {
			s.c = c
		} else {
			return c // not cached; the caller's call reports the error
		}
	}
	return s.c
}

// frameConn writes frames to esxtool. Output frames are coalesced and written at the latest 20 ms later (progress
// output still streams), or at once with the exit code / a stdin request: a short command costs one write syscall.
type frameConn struct {
	mu    sync.Mutex
	c     net.Conn
	buf   []byte
	timer *time.Timer
	dead  bool
}

func (f *frameConn) send(typ byte, p []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var h [5]byte
	h[0] = typ
	binary.BigEndian.PutUint32(h[1:], uint32(len(p)))
	f.buf = append(append(f.buf, h[:]...), p...)
	if typ == 'x' || typ == 'i' || len(f.buf) > 256<<10 {
		return f.flushLocked()
	}
	if f.timer == nil {
		f.timer = time.AfterFunc(20*time.Millisecond, func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.timer = nil
			_ = f.flushLocked()
		})
	}
	return nil
}

func (f *frameConn) flushLocked() error {
	if f.timer != nil {
		f.timer.Stop()
		f.timer = nil
	}
	if len(f.buf) == 0 {
		return nil
	}
	b := f.buf
	f.buf = f.buf[:0]
	if f.dead {
		return io.ErrClosedPipe
	}
	if _, err := f.c.Write(b); err != nil {
		f.dead = true
		return err
	}
	return nil
}

func readFrame(r io.Reader) (byte, []byte, error) {
	var h [5]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(h[1:])
	if n > 64<<20 {
		return 0, nil, fmt.Errorf("frame too large")
	}
	p := make([]byte, n)
	_, err := io.ReadFull(r, p)
	return h[0], p, err
}

// frameWriter is a tool's stdout or stderr: every Write is one frame (errors ignored: a caller killed mid-way,
// e.g. by dropSsh, does not stop the operation, as on a real host where hostd carries on).
type frameWriter struct {
	fc  *frameConn
	typ byte
}

func (w *frameWriter) Write(p []byte) (int, error) {
	if len(p) > 0 {
		_ = w.fc.send(w.typ, p)
	}
	return len(p), nil
}

// stdinReader pulls the caller's stdin on demand.
type stdinReader struct {
	fc   *frameConn
	data chan []byte // nil slice = EOF
	buf  []byte
	eof  bool
}

func (r *stdinReader) Read(p []byte) (int, error) {
	if len(r.buf) == 0 && !r.eof {
		var h [4]byte
		binary.BigEndian.PutUint32(h[:], uint32(len(p)))
		if r.fc.send('i', h[:]) != nil {
			r.eof = true
		} else if b, ok := <-r.data; !ok || b == nil {
			r.eof = true
		} else {
			r.buf = b
		}
	}
	if len(r.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// startToolServer listens on STATEDIR/tool.sock and runs each request as a Tool inside serve.
func startToolServer(st *State, cl *cleanup, svc *simulator.Service, front *Front) error {
	sharedClient = &shared{st: st}
	if svc != nil {
		sharedClient.rt = &inprocRT{svc: svc, front: front}
	}
	sock := filepath.Join(st.Dir, toolSock)
	_ = os.Remove(sock)
	ln, err := net.Listen("unix", sock)
	if err != nil {
		return err
	}
	cl.toolLn = ln
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serveToolConn(st, c)
		}
	}()
	return nil
}

func serveToolConn(st *State, c net.Conn) {
	defer c.Close()
	defer func() {
		if p := recover(); p != nil {
			log.Printf("cesobed: tool panic: %v\n%s", p, debug.Stack())
		}
	}()
	br := bufio.NewReader(c)
	typ, p, err := readFrame(br)
	if err != nil || typ != 'R' {
		return
	}
	req, err := parseToolRequest(p)
	if err != nil {
		return
	}
	fc := &frameConn{c: c}
	in := &stdinReader{fc: fc, data: make(chan []byte, 1)}
	go func() { // stdin answers; the connection closing (caller killed) ends the stream
		defer close(in.data)
		for {
			typ, p, err := readFrame(br)
			if err != nil {
				return
			}
			switch typ {
			case 'd':
				in.data <- p
			case 'z':
				in.data <- nil
			}
		}
	}()
	t := &Tool{St: st, out: &frameWriter{fc, 'o'}, errw: &frameWriter{fc, 'e'}, in: in, cwd: req.Cwd}
	tool := filepath.Base(req.Argv[0])
	rc := t.run(tool, req.Argv[1:])
	var x [4]byte
	binary.BigEndian.PutUint32(x[:], uint32(int32(rc)))
	_ = fc.send('x', x[:])
}
