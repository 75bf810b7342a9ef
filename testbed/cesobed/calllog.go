package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Call is one line of STATEDIR/calls.jsonl (see SPEC.md "Call log").
type Call struct {
	T        string   `json:"t"`
	Channel  string   `json:"channel"` // soap | http | ssh
	Kind     string   `json:"kind"`    // method | request | command | stdin | exec
	Name     string   `json:"name"`
	Argv     []string `json:"argv,omitempty"`
	Write    bool     `json:"write"`
	Internal bool     `json:"internal"`
	Fault    string   `json:"fault,omitempty"`
	User     string   `json:"user,omitempty"` // soap/http: the session's user (root, or a local user the front knows)
}

// logCall appends one line; O_APPEND + flock keeps lines whole across processes.
func logCall(dir string, c Call) {
	if dir == "" {
		return
	}
	c.T = time.Now().UTC().Format(time.RFC3339Nano)
	b, err := json.Marshal(c)
	if err != nil {
		return
	}
	f, err := os.OpenFile(filepath.Join(dir, "calls.jsonl"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0644)
	if err != nil {
		return
	}
	defer f.Close()
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
	_, _ = f.Write(append(b, '\n'))
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
}
