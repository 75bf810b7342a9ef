package main

import (
	"context"
	"encoding/json"
	"io"
	"io/ioutil"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vmware/govmomi/property"
	govsession "github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// Tool is one invocation of an ESXi tool (vim-cmd, vmkfstools, esxcli).
type Tool struct {
	St     *State
	Faults Faults
	c      *vim25.Client

	out  io.Writer // the caller's stdout (os.Stdout, or a frame writer to esxtool)
	errw io.Writer // the caller's stderr
	in   io.Reader // the caller's stdin (read lazily: a persistent shell's next lines stay the shell's)
	cwd  string    // the caller's working directory (relative paths resolve against it)
}

// path maps a path given by the caller ("[ds] x", /vmfs/volumes/..., relative to the caller's cwd) to the local file.
func (t *Tool) path(p string) (string, *DSState) {
	if p != "" && !strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "[") && t.cwd != "" {
		p = filepath.Join(t.cwd, p)
	}
	return localPath(t.St, p)
}

func (t *Tool) delay() { sleepMs(t.Faults.DelayMs) }

var internalURL = &url.URL{Scheme: "http", Host: "localhost", Path: "/sdk"}

// newInternalClient talks to vcsim over STATEDIR/soap.sock (internal calls: logged internal, never delayed or
// restricted). The session cookie and the ServiceContent are cached in STATEDIR so that a tool call costs one
// round trip; it logs in again only when the session is gone.
func newInternalClient(st *State) *vim25.Client {
	sock := filepath.Join(st.Dir, "soap.sock")
	sc := soap.NewClient(internalURL, true)
	sc.Client.Transport = &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
	}
	c := &vim25.Client{Client: sc, RoundTripper: sc}
	c.Namespace, c.Version = "urn:"+vim25.Namespace, vim25.Version
	sc.Namespace, sc.Version = c.Namespace, c.Version
	if b, err := ioutil.ReadFile(filepath.Join(st.Dir, ".tool-servicecontent.json")); err == nil {
		_ = json.Unmarshal(b, &c.ServiceContent)
	}
	if b, err := ioutil.ReadFile(filepath.Join(st.Dir, ".tool-session")); err == nil {
		sc.Client.Jar.SetCookies(internalURL, []*http.Cookie{{Name: soap.SessionCookieName, Value: strings.TrimSpace(string(b))}})
	}
	return c
}

func (t *Tool) login(ctx context.Context) error {
	c := t.c
	if c.ServiceContent.SessionManager == nil {
		sc, err := methods.GetServiceContent(ctx, c)
		if err != nil {
			return err
		}
		c.ServiceContent = sc
		b, _ := json.Marshal(sc)
		writeAtomic(filepath.Join(t.St.Dir, ".tool-servicecontent.json"), b)
	}
	if err := govsession.NewManager(c).Login(ctx, url.UserPassword(t.St.Username, t.St.Password)); err != nil {
		return err
	}
	for _, ck := range c.Client.Client.Jar.Cookies(internalURL) {
		if ck.Name == soap.SessionCookieName {
			writeAtomic(filepath.Join(t.St.Dir, ".tool-session"), []byte(ck.Value))
		}
	}
	return nil
}

func writeAtomic(file string, b []byte) {
	tmp := file + ".tmp" + randHex(4)
	if ioutil.WriteFile(tmp, b, 0600) == nil {
		_ = os.Rename(tmp, file)
	}
}

func isNotAuthenticated(err error) bool {
	if err == nil {
		return false
	}
	if soap.IsSoapFault(err) {
		if _, ok := soap.ToSoapFault(err).VimFault().(types.NotAuthenticated); ok {
			return true
		}
	}
	return strings.Contains(err.Error(), "NotAuthenticated") || strings.Contains(err.Error(), "not authenticated")
}

// do runs f with a logged-in client, logging in (once) when there is no valid session yet.
func (t *Tool) do(f func(ctx context.Context, c *vim25.Client) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if t.c == nil {
		if sharedClient != nil { // inside serve: one logged-in client for all tool requests
			t.c = sharedClient.get(ctx, t)
		} else {
			t.c = newInternalClient(t.St)
		}
		if t.c.ServiceContent.SessionManager == nil {
			if err := t.login(ctx); err != nil {
				return err
			}
		}
	}
	err := f(ctx, t.c)
	if isNotAuthenticated(err) {
		if sharedClient != nil {
			sharedClient.mu.Lock()
			lerr := t.login(ctx)
			sharedClient.mu.Unlock()
			if lerr != nil {
				return lerr
			}
		} else if err := t.login(ctx); err != nil {
			return err
		}
		err = f(ctx, t.c)
	}
	return err
}

func (t *Tool) pc() *property.Collector { return property.DefaultCollector(t.c) }
