package main

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/ioutil"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// The simulated guest's cloud-init (SPEC.md "Simulated guests"): guestinfo decoding, the user-data the simulation
// reads, and what cloud-init 22.4 would do in the guest's tree, decided from the image's own files.

func decodeGuestinfo(v, enc string) string {
	switch strings.ToLower(enc) {
	case "gzip+base64", "gz+b64":
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return ""
		}
		r, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return ""
		}
		out, _ := ioutil.ReadAll(r)
		return string(out)
	case "base64", "b64":
		b, _ := base64.StdEncoding.DecodeString(v)
		return string(b)
	}
	return v
}

// guestMetadata: guestinfo.metadata as JSON (what Ceso writes; YAML metadata is not read by the simulation).
func guestMetadata(extra map[string]string) map[string]interface{} {
	s := decodeGuestinfo(extra["guestinfo.metadata"], extra["guestinfo.metadata.encoding"])
	if s == "" {
		return nil
	}
	var md map[string]interface{}
	if json.Unmarshal([]byte(s), &md) != nil {
		return nil
	}
	return md
}

// UserData is what the simulation takes from the user-data: cloud-config parts (JSON documents, or the simple YAML
// Ceso writes: `key: scalar` and `key:` + `  - item` lists, scalars bare or JSON-quoted), merged in order (a later
// part replaces a key), and text/x-shellscript parts, run after runcmd as cloud-init's scripts_user does.
type UserData struct {
	Hostname string
	Keys     []string
	Runcmd   []string // shell command lines
}

func parseUserData(s string) UserData {
	var ud UserData
	if strings.HasPrefix(s, "Content-Type: multipart/") {
		msg, err := mail.ReadMessage(strings.NewReader(s))
		if err != nil {
			return ud
		}
		_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
		if err != nil {
			return ud
		}
		var scripts []string
		mr := multipart.NewReader(msg.Body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			body, _ := ioutil.ReadAll(p)
			ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
			switch ct {
			case "text/cloud-config":
				mergeCloudConfig(&ud, string(body))
			case "text/x-shellscript":
				scripts = append(scripts, string(body))
			}
		}
		ud.Runcmd = append(ud.Runcmd, scripts...)
		return ud
	}
	if strings.HasPrefix(s, "#!") {
		ud.Runcmd = append(ud.Runcmd, s)
	} else if strings.HasPrefix(s, "#cloud-config") {
		mergeCloudConfig(&ud, s)
	}
	return ud
}

func mergeCloudConfig(ud *UserData, s string) {
	body := strings.TrimSpace(strings.TrimPrefix(s, "#cloud-config"))
	cfg := map[string]interface{}{}
	if strings.HasPrefix(body, "{") {
		_ = json.Unmarshal([]byte(body), &cfg)
	} else {
		cfg = simpleYaml(body)
	}
	if h, ok := cfg["hostname"].(string); ok {
		ud.Hostname = h
	}
	if ks, ok := cfg["ssh_authorized_keys"].([]interface{}); ok {
		ud.Keys = nil
		for _, k := range ks {
			if s, ok := k.(string); ok {
				ud.Keys = append(ud.Keys, s)
			}
		}
	}
	if rc, ok := cfg["runcmd"].([]interface{}); ok {
		ud.Runcmd = nil
		for _, c := range rc {
			switch v := c.(type) {
			case string:
				ud.Runcmd = append(ud.Runcmd, v)
			case []interface{}: // an argv: quoted for sh, as cloud-init's runcmd module does
				var q []string
				for _, a := range v {
					q = append(q, "'"+strings.ReplaceAll(fmt.Sprint(a), "'", `'\''`)+"'")
				}
				ud.Runcmd = append(ud.Runcmd, strings.Join(q, " "))
			}
		}
	}
}

func simpleYaml(body string) map[string]interface{} {
	out := map[string]interface{}{}
	var list *[]interface{}
	scalar := func(v string) interface{} {
		v = strings.TrimSpace(v)
		var x interface{}
		if (strings.HasPrefix(v, `"`) || strings.HasPrefix(v, "[")) && json.Unmarshal([]byte(v), &x) == nil {
			return x
		}
		return v
	}
	for _, l := range strings.Split(body, "\n") {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		if strings.HasPrefix(t, "- ") && list != nil {
			*list = append(*list, scalar(t[2:]))
			continue
		}
		if i := strings.Index(t, ":"); i > 0 && l[0] != ' ' {
			k, v := t[:i], strings.TrimSpace(t[i+1:])
			if v == "" {
				l := []interface{}{}
				list = &l
				out[k] = list
				continue
			}
			list = nil
			out[k] = scalar(v)
		}
	}
	for k, v := range out {
		if p, ok := v.(*[]interface{}); ok {
			out[k] = *p
		}
	}
	return out
}

// CloudInitSim: what the simulated cloud-init found and did.
type CloudInitSim struct {
	Installed  bool
	DsList     []string
	Datasource string
}

var dsListRe = regexp.MustCompile(`(?m)^datasource_list:\s*\[([^\]]*)\]`)
var builtinDsRe = regexp.MustCompile(`(?s)"datasource_list":\s*\[(.*?)\]`)

func splitDsList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.Trim(strings.TrimSpace(regexp.MustCompile(`#.*`).ReplaceAllString(f, "")), `"'`)
		if f != "" {
			out = append(out, f)
		}
	}
	return out
}

// simulateCloudInit decides from the image's own files what cloud-init 22.4 would do with the VM's guestinfo, and
// does it in the tree: the datasource_list is the built-in one (cloudinit/settings.py of the installed package)
// unless /etc/cloud/cloud.cfg or a /etc/cloud/cloud.cfg.d/*.cfg (in name order, the last one wins) sets one (the
// single-line form, the only one ds-identify reads); the VMware datasource is chosen when it is listed, the
// open-vm-tools' vmware-rpctool is installed (DataSourceVMware reads guestinfo with it) and guestinfo.metadata is
// set; otherwise the fallback DataSourceNone, which delivers no meta-data or user-data.
func simulateCloudInit(root string, md map[string]interface{}, ud UserData) CloudInitSim {
	var ci CloudInitSim
	if !isFile(filepath.Join(root, "usr/bin/cloud-init")) || !dpkgInstalled(root, "cloud-init") {
		return ci
	}
	ci.Installed = true
	if b, err := ioutil.ReadFile(filepath.Join(root, "usr/lib/python3/dist-packages/cloudinit/settings.py")); err == nil {
		if m := builtinDsRe.FindSubmatch(b); m != nil {
			ci.DsList = splitDsList(string(m[1]))
		}
	}
	cfgs := []string{filepath.Join(root, "etc/cloud/cloud.cfg")}
	more, _ := filepath.Glob(filepath.Join(root, "etc/cloud/cloud.cfg.d/*.cfg"))
	sort.Strings(more)
	for _, f := range append(cfgs, more...) {
		if b, err := ioutil.ReadFile(f); err == nil {
			if m := dsListRe.FindSubmatch(b); m != nil {
				ci.DsList = splitDsList(string(m[1]))
			}
		}
	}
	listed := false
	for _, d := range ci.DsList {
		if d == "VMware" {
			listed = true
		}
	}
	rpctool := false
	for _, d := range []string{"usr/bin", "usr/sbin", "bin", "sbin"} {
		if isFile(filepath.Join(root, d, "vmware-rpctool")) {
			rpctool = true
		}
	}
	now := time.Now().UTC()
	run := filepath.Join(root, "run/cloud-init")
	_ = os.MkdirAll(run, 0755)
	ci.Datasource = "DataSourceNone"
	platform, subplatform, cloud := "none", "config", "none"
	if listed && rpctool && md != nil {
		ci.Datasource = "DataSourceVMware [seed=guestinfo]"
		platform, subplatform, cloud = "vmware", "guestinfo", "vmware"
		host := ud.Hostname
		if h, ok := md["local-hostname"].(string); ok && host == "" {
			host = h
		}
		if host != "" {
			_ = ioutil.WriteFile(filepath.Join(root, "etc/hostname"), []byte(host+"\n"), 0644)
		}
		if n, ok := md["network"].(map[string]interface{}); ok {
			writeEni(root, n)
		}
		if len(ud.Keys) > 0 {
			dir := filepath.Join(root, "home/debian/.ssh")
			_ = os.MkdirAll(dir, 0700)
			_ = ioutil.WriteFile(filepath.Join(dir, "authorized_keys"), []byte(strings.Join(ud.Keys, "\n")+"\n"), 0600)
		}
	}
	iid, _ := md["instance-id"].(string)
	if ci.Datasource == "DataSourceNone" {
		iid = "iid-datasource-none"
	}
	ts := float64(now.UnixNano()) / 1e9
	stage := map[string]interface{}{"errors": []string{}, "start": ts, "finished": ts}
	status := map[string]interface{}{"v1": map[string]interface{}{"datasource": ci.Datasource, "init-local": stage, "init": stage,
		"modules-config": stage, "modules-final": map[string]interface{}{"errors": []string{}, "start": ts, "finished": nil}, "stage": "modules-final"}}
	writeJSON(filepath.Join(run, "status.json"), status)
	writeJSON(filepath.Join(run, "result.json"), map[string]interface{}{"v1": map[string]interface{}{"datasource": ci.Datasource, "errors": []string{}}})
	writeJSON(filepath.Join(run, "instance-data.json"), map[string]interface{}{"v1": map[string]interface{}{
		"cloud_name": cloud, "cloud_id": cloud, "platform": platform, "subplatform": subplatform, "instance_id": iid}})
	_ = ioutil.WriteFile(filepath.Join(run, "cloud-id"), []byte(cloud+"\n"), 0644)
	return ci
}

// writeEni renders network config v2's ethernets as /etc/network/interfaces.d/50-cloud-init (cloud-init's ENI
// renderer: Debian 12 images without netplan use ifupdown). There is no NIC in the guest's network namespace, so
// the address is rendered, not up.
func writeEni(root string, n map[string]interface{}) {
	eths, _ := n["ethernets"].(map[string]interface{})
	var b strings.Builder
	b.WriteString("# This file is generated from information provided by the datasource.  Changes\n# to it will not persist across an instance reboot.\nauto lo\niface lo inet loopback\n")
	names := []string{}
	for k := range eths {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		e, _ := eths[name].(map[string]interface{})
		if s, ok := e["set-name"].(string); ok {
			name = s
		}
		addrs, _ := e["addresses"].([]interface{})
		fmt.Fprintf(&b, "\nauto %s\n", name)
		for i, a := range addrs {
			fam := "inet"
			if strings.Contains(fmt.Sprint(a), ":") {
				fam = "inet6"
			}
			alias := name
			if i > 0 {
				alias = fmt.Sprintf("%s:%d", name, i)
			}
			fmt.Fprintf(&b, "iface %s %s static\n    address %v\n", alias, fam, a)
		}
		routes, _ := e["routes"].([]interface{})
		for _, r := range routes {
			if m, ok := r.(map[string]interface{}); ok {
				fmt.Fprintf(&b, "    # route %v via %v\n", m["to"], m["via"])
			}
		}
	}
	dir := filepath.Join(root, "etc/network/interfaces.d")
	_ = os.MkdirAll(dir, 0755)
	_ = ioutil.WriteFile(filepath.Join(dir, "50-cloud-init"), []byte(b.String()), 0644)
}

func writeJSON(path string, v interface{}) {
	b, _ := json.MarshalIndent(v, "", " ")
	_ = ioutil.WriteFile(path, append(b, '\n'), 0644)
}

func isFile(p string) bool {
	fi, err := os.Lstat(p)
	return err == nil && !fi.IsDir()
}

// dpkgInstalled: the image's /var/lib/dpkg/status has the package with Status "install ok installed".
func dpkgInstalled(root, pkg string) bool {
	f, err := os.Open(filepath.Join(root, "var/lib/dpkg/status"))
	if err != nil {
		return false
	}
	defer f.Close()
	b, _ := ioutil.ReadAll(io.LimitReader(f, 16<<20))
	for _, para := range strings.Split(string(b), "\n\n") {
		if strings.Contains("\n"+para+"\n", "\nPackage: "+pkg+"\n") && strings.Contains(para, "Status: install ok installed") {
			return true
		}
	}
	return false
}
