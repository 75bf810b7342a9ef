// esxtool: the ESXi tools (vim-cmd, vmkfstools, esxcli) of the cesobed test bed, as a tiny client (stdlib only).
// STATEDIR/bin/<tool> links here; each call is handed to `cesobed serve` over STATEDIR/tool.sock, which runs the tool
// and streams back stdout, stderr and the exit code (protocol: ../cesobed/toolserver.go). Starting this binary costs
// well under a millisecond, where starting cesobed itself (Go init of govmomi's simulator and types) cost ~11 ms.
package main

import (
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// stateDir: $CESOBED_STATE, else the directory above the link we were started through (STATEDIR/bin/<tool>).
func stateDir() string {
	if d := os.Getenv("CESOBED_STATE"); d != "" {
		return d
	}
	p := os.Args[0]
	if !strings.Contains(p, "/") {
		for _, d := range filepath.SplitList(os.Getenv("PATH")) {
			if fi, err := os.Stat(filepath.Join(d, p)); err == nil && !fi.IsDir() {
				p = filepath.Join(d, p)
				break
			}
		}
	}
	if a, err := filepath.Abs(p); err == nil {
		d := filepath.Dir(filepath.Dir(a))
		if _, err := os.Stat(filepath.Join(d, "tool.sock")); err == nil {
			return d
		}
	}
	return ""
}

func fail(tool, msg string) {
	os.Stderr.WriteString(tool + ": " + msg + "\n")
	os.Exit(1)
}

func writeFull(fd int, p []byte) error {
	for len(p) > 0 {
		n, err := syscall.Write(fd, p)
		if err == syscall.EINTR || err == syscall.EAGAIN {
			continue
		}
		if err != nil {
			return err
		}
		p = p[n:]
	}
	return nil
}

func sendFrame(fd int, typ byte, p []byte) error {
	b := make([]byte, 5+len(p))
	b[0] = typ
	binary.BigEndian.PutUint32(b[1:5], uint32(len(p)))
	copy(b[5:], p)
	return writeFull(fd, b)
}

// fdReader reads the socket with plain syscalls (no poller: one blocking connection, nothing else to do).
type fdReader int

func (r fdReader) Read(p []byte) (int, error) {
	for {
		n, err := syscall.Read(int(r), p)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		if n == 0 {
			return 0, io.EOF
		}
		return n, nil
	}
}

func main() {
	tool := filepath.Base(os.Args[0])
	if tool == "esxtool" && len(os.Args) > 1 { // esxtool vim-cmd ARGS… also works
		os.Args = os.Args[1:]
		tool = filepath.Base(os.Args[0])
	}
	dir := stateDir()
	if dir == "" {
		fail(tool, "CESOBED_STATE not set and no STATEDIR/tool.sock found (is `cesobed serve` running?)")
	}
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		fail(tool, err.Error())
	}
	if err := syscall.Connect(fd, &syscall.SockaddrUnix{Name: filepath.Join(dir, "tool.sock")}); err != nil {
		fail(tool, "cannot reach cesobed serve at "+filepath.Join(dir, "tool.sock")+": "+err.Error())
	}
	cwd, _ := os.Getwd()
	var req strings.Builder
	req.WriteString(cwd)
	req.WriteByte(0)
	req.WriteString(strconv.Itoa(len(os.Args)))
	for _, a := range append([]string{tool}, os.Args[1:]...) {
		req.WriteByte(0)
		req.WriteString(a)
	}
	for _, e := range os.Environ() {
		req.WriteByte(0)
		req.WriteString(e)
	}
	if err := sendFrame(fd, 'R', []byte(req.String())); err != nil {
		fail(tool, err.Error())
	}
	r := fdReader(fd)
	var h [5]byte
	buf := make([]byte, 0, 64<<10)
	for {
		if _, err := io.ReadFull(r, h[:]); err != nil {
			fail(tool, "connection to cesobed serve lost")
		}
		n := int(binary.BigEndian.Uint32(h[1:]))
		if cap(buf) < n {
			buf = make([]byte, n)
		}
		p := buf[:n]
		if _, err := io.ReadFull(r, p); err != nil {
			fail(tool, "connection to cesobed serve lost")
		}
		switch h[0] {
		case 'o':
			_ = writeFull(1, p)
		case 'e':
			_ = writeFull(2, p)
		case 'i':
			want := 64 << 10
			if len(p) == 4 {
				want = int(binary.BigEndian.Uint32(p))
			}
			if want <= 0 || want > 1<<20 {
				want = 64 << 10
			}
			in := make([]byte, want)
			k, err := syscall.Read(0, in)
			for err == syscall.EINTR {
				k, err = syscall.Read(0, in)
			}
			if k > 0 {
				err = sendFrame(fd, 'd', in[:k])
			} else {
				err = sendFrame(fd, 'z', nil)
			}
			if err != nil {
				fail(tool, "connection to cesobed serve lost")
			}
		case 'x':
			code := 1
			if len(p) == 4 {
				code = int(int32(binary.BigEndian.Uint32(p)))
			}
			os.Exit(code)
		}
	}
}
