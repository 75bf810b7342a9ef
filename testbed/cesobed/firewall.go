package main

import (
	"context"
	"encoding/xml"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/simulator/esx"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// The host firewall's allowed IPs per ruleset: HostFirewallSystem.UpdateRuleset (vcsim has Enable/DisableRuleset
// only) and esxcli network firewall ruleset list / set --allowed-all / allowedip list|add|remove. The test bed keeps
// the lists in vcsim's firewall info (one truth for SOAP and esxcli); it does not filter connections (everything is on
// 127.0.0.1).

// updateRulesetReq is the body of UpdateRuleset as the API sends it.
type updateRulesetReq struct {
	Id   string `xml:"id"`
	Spec struct {
		AllowedHosts *struct {
			IpAddress []string `xml:"ipAddress"`
			IpNetwork []struct {
				Network      string `xml:"network"`
				PrefixLength int    `xml:"prefixLength"`
			} `xml:"ipNetwork"`
			AllIp bool `xml:"allIp"`
		} `xml:"allowedHosts"`
	} `xml:"spec"`
}

// firewallRulesets is vcsim's ruleset list (shared by HostSystem.config.firewall and HostFirewallSystem.firewallInfo).
func firewallRulesets() (*simulator.HostFirewallSystem, []types.HostFirewallRuleset) {
	hs, ok := simulator.Map.Get(esx.HostSystem.Reference()).(*simulator.HostSystem)
	if !ok || hs.ConfigManager.FirewallSystem == nil {
		return nil, nil
	}
	fw, ok := simulator.Map.Get(*hs.ConfigManager.FirewallSystem).(*simulator.HostFirewallSystem)
	if !ok || fw.FirewallInfo == nil {
		return nil, nil
	}
	return fw, fw.FirewallInfo.Ruleset
}

// setAllowed replaces a ruleset's allowed hosts in both copies vcsim keeps (HostFirewallSystem.firewallInfo and
// HostSystem.config.firewall); false when there is no such ruleset.
func setAllowed(id string, list types.HostFirewallRulesetIpList) bool {
	fw, sets := firewallRulesets()
	if fw == nil {
		return false
	}
	found := false
	apply := func(sets []types.HostFirewallRuleset) {
		for i := range sets {
			if sets[i].Key == id {
				l := list
				sets[i].AllowedHosts = &l
				found = true
			}
		}
	}
	simulator.Map.WithLock(fw, func() { apply(sets) })
	if hs, ok := simulator.Map.Get(esx.HostSystem.Reference()).(*simulator.HostSystem); ok {
		simulator.Map.WithLock(hs, func() {
			if hs.Config != nil && hs.Config.Firewall != nil {
				apply(hs.Config.Firewall.Ruleset)
			}
		})
	}
	return found
}

// serveUpdateRuleset answers UpdateRuleset (only the allowed hosts of the spec are applied, as Ceso uses it).
func (f *Front) serveUpdateRuleset(w http.ResponseWriter, body []byte) string {
	var env struct {
		Body struct {
			Req updateRulesetReq `xml:"UpdateRuleset"`
		} `xml:"Body"`
	}
	if err := xml.Unmarshal(body, &env); err != nil || env.Body.Req.Id == "" {
		soapFault(w, "A specified parameter was not correct: id", "InvalidArgument", "<invalidProperty>id</invalidProperty>")
		return "InvalidArgument"
	}
	req := env.Body.Req
	list := types.HostFirewallRulesetIpList{AllIp: true}
	if a := req.Spec.AllowedHosts; a != nil {
		list = types.HostFirewallRulesetIpList{AllIp: a.AllIp, IpAddress: a.IpAddress}
		for _, n := range a.IpNetwork {
			if net.ParseIP(n.Network) == nil {
				soapFault(w, "A specified parameter was not correct: spec.allowedHosts.ipNetwork", "InvalidArgument", "<invalidProperty>spec.allowedHosts.ipNetwork</invalidProperty>")
				return "InvalidArgument"
			}
			list.IpNetwork = append(list.IpNetwork, types.HostFirewallRulesetIpNetwork{Network: n.Network, PrefixLength: int32(n.PrefixLength)})
		}
		for _, ip := range a.IpAddress {
			if net.ParseIP(ip) == nil {
				soapFault(w, "A specified parameter was not correct: spec.allowedHosts.ipAddress", "InvalidArgument", "<invalidProperty>spec.allowedHosts.ipAddress</invalidProperty>")
				return "InvalidArgument"
			}
		}
	}
	if !setAllowed(req.Id, list) {
		soapFault(w, "The object or item referred to could not be found.", "NotFound", "")
		return "NotFound"
	}
	soapOK(w, `<UpdateRulesetResponse xmlns="urn:vim25"></UpdateRulesetResponse>`)
	return ""
}

// allowedText is esxcli's "Allowed IP Addresses" cell: All, or the addresses and networks joined by ", ".
func allowedText(l *types.HostFirewallRulesetIpList) string {
	if l == nil || l.AllIp {
		return "All"
	}
	var parts []string
	parts = append(parts, l.IpAddress...)
	for _, n := range l.IpNetwork {
		parts = append(parts, fmt.Sprintf("%s/%d", n.Network, n.PrefixLength))
	}
	return strings.Join(parts, ", ")
}

// esxcliFirewall answers `esxcli network firewall ruleset …`; ok=false when args are not a firewall command.
// Changes go through UpdateRuleset over the tool's API client, so a separate tool process changes the same state.
func (t *Tool) esxcliFirewall(ctx context.Context, c *vim25.Client, args []string) (bool, error) {
	if len(args) < 3 || args[0] != "network" || args[1] != "firewall" || args[2] != "ruleset" {
		return false, nil
	}
	opts := map[string]string{}
	var verbs []string
	for _, a := range args[3:] {
		if strings.HasPrefix(a, "--") {
			k, v, _ := strings.Cut(a[2:], "=")
			opts[k] = v
		} else if strings.HasPrefix(a, "-") {
			return true, fmt.Errorf("Error: the test bed's esxcli takes --name=value options only, not %s", a)
		} else {
			verbs = append(verbs, a)
		}
	}
	// Read over the tool's client (in serve or in a separate tool process alike).
	var h mo.HostSystem
	if err := t.pc().RetrieveOne(ctx, esx.HostSystem.Reference(), []string{"config.firewall", "configManager.firewallSystem"}, &h); err != nil {
		return true, err
	}
	var sets []types.HostFirewallRuleset
	if h.Config != nil && h.Config.Firewall != nil {
		sets = h.Config.Firewall.Ruleset
	}
	find := func() (*types.HostFirewallRuleset, error) {
		id := opts["ruleset-id"]
		for i := range sets {
			if sets[i].Key == id {
				return &sets[i], nil
			}
		}
		return nil, fmt.Errorf("Invalid Ruleset Id: %s", id)
	}
	update := func(id string, l types.HostFirewallRulesetIpList) error {
		if sharedClient != nil { // inside serve, whose tool client goes to vcsim directly (not through the front)
			if !setAllowed(id, l) {
				return fmt.Errorf("Invalid Ruleset Id: %s", id)
			}
			return nil
		}
		if h.ConfigManager.FirewallSystem == nil {
			return fmt.Errorf("the host has no firewall system")
		}
		_, err := methods.UpdateRuleset(ctx, c, &types.UpdateRuleset{This: *h.ConfigManager.FirewallSystem, Id: id, Spec: types.HostFirewallRulesetRulesetSpec{AllowedHosts: l}})
		return err
	}
	current := func(rs *types.HostFirewallRuleset) types.HostFirewallRulesetIpList {
		if rs.AllowedHosts == nil {
			return types.HostFirewallRulesetIpList{AllIp: true}
		}
		l := *rs.AllowedHosts
		l.IpAddress = append([]string(nil), l.IpAddress...)
		l.IpNetwork = append([]types.HostFirewallRulesetIpNetwork(nil), l.IpNetwork...)
		return l
	}
	switch strings.Join(verbs, " ") {
	case "list":
		var rows [][]string
		for _, rs := range sets {
			rows = append(rows, []string{rs.Key, fmt.Sprint(rs.Enabled)})
		}
		t.table([]string{"Name", "Enabled"}, rows)
		return true, nil
	case "allowedip list":
		var rows [][]string
		for _, rs := range sets {
			if id := opts["ruleset-id"]; id == "" || id == rs.Key {
				rows = append(rows, []string{rs.Key, allowedText(rs.AllowedHosts)})
			}
		}
		t.table([]string{"Ruleset", "Allowed IP Addresses"}, rows)
		return true, nil
	case "set":
		rs, err := find()
		if err != nil {
			return true, err
		}
		v, ok := opts["allowed-all"]
		if !ok {
			return true, fmt.Errorf("Error: the test bed's esxcli implements ruleset set --allowed-all only")
		}
		l := current(rs)
		l.AllIp = v == "true" || v == "1"
		return true, update(rs.Key, l)
	case "allowedip add", "allowedip remove":
		rs, err := find()
		if err != nil {
			return true, err
		}
		ip := opts["ip-address"]
		addr, network, prefix := ip, "", 0
		if a, p, ok := strings.Cut(ip, "/"); ok {
			if _, n, err := net.ParseCIDR(ip); err != nil || n == nil {
				return true, fmt.Errorf("Invalid IP address or network: %s", ip)
			}
			network, addr = a, ""
			fmt.Sscan(p, &prefix)
		} else if net.ParseIP(ip) == nil {
			return true, fmt.Errorf("Invalid IP address or network: %s", ip)
		}
		l := current(rs)
		if verbs[1] == "add" {
			if addr != "" && !contains(l.IpAddress, addr) {
				l.IpAddress = append(l.IpAddress, addr)
			}
			if network != "" && !hasNetwork(l.IpNetwork, network, prefix) {
				l.IpNetwork = append(l.IpNetwork, types.HostFirewallRulesetIpNetwork{Network: network, PrefixLength: int32(prefix)})
			}
		} else {
			if (addr != "" && !contains(l.IpAddress, addr)) || (network != "" && !hasNetwork(l.IpNetwork, network, prefix)) {
				return true, fmt.Errorf("Ip address or network %s is not in the allowed list of ruleset %s", ip, rs.Key)
			}
			l.IpAddress = without(l.IpAddress, addr)
			var keep []types.HostFirewallRulesetIpNetwork
			for _, n := range l.IpNetwork {
				if !(n.Network == network && int(n.PrefixLength) == prefix) {
					keep = append(keep, n)
				}
			}
			l.IpNetwork = keep
		}
		sort.Strings(l.IpAddress)
		return true, update(rs.Key, l)
	}
	return true, fmt.Errorf("Error: Unknown command or namespace network firewall ruleset %s", strings.Join(verbs, " "))
}

func without(list []string, s string) []string {
	var out []string
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

func hasNetwork(list []types.HostFirewallRulesetIpNetwork, network string, prefix int) bool {
	for _, n := range list {
		if n.Network == network && int(n.PrefixLength) == prefix {
			return true
		}
	}
	return false
}
