# Ceso boot probe: runs in the disposable copy of a template (cloud-init runcmd), writes one JSON report line to the
# serial port (/dev/ttyS0, a file on the datastore) and powers the guest off. POSIX sh; only coreutils/busybox tools.
# Ceso prepends: want_host, want_ip (address without prefix), want_key (the key's base64 part).
esc() { printf '%s' "$1" | tr '\n\r\t' '   ' | sed 's/\\/\\\\/g; s/"/\\"/g'; }
pkgver() { # the package's version in the dpkg status (when it is installed)
  [ -r /var/lib/dpkg/status ] || return 0
  awk -v p="$1" '/^Package: /{cur=$2; ok=0} cur==p && /^Status: install ok installed/{ok=1} cur==p && /^Version: /{v=$2} /^$/{if(cur==p&&ok&&v!=""){print v; done=1; exit} cur=""; v=""} END{if(!done&&cur==p&&ok&&v!="")print v}' /var/lib/dpkg/status
}
jsonval() { # the first "key": "value" string in a JSON file
  [ -r "$2" ] && sed -n "s/.*\"$1\": *\"\([^\"]*\)\".*/\1/p" "$2" | head -n 1
}
# cloud-init: installed, version, status, datasource
ci_path=$(command -v cloud-init 2>/dev/null || true)
ci_ver=$(cloud-init --version 2>/dev/null | head -n 1 || true)
ci_ver_src="cloud-init --version"
if [ -z "$ci_ver" ]; then ci_ver=$(pkgver cloud-init); ci_ver_src="dpkg status"; fi
ci_status=$(cloud-init status --long 2>/dev/null | tr '\n' ';' || true)
ci_status_src="cloud-init status --long"
if [ -z "$ci_status" ] && [ -r /run/cloud-init/status.json ]; then
  ci_status="stage: $(jsonval stage /run/cloud-init/status.json); errors: $(grep -q '"errors": \[$' /run/cloud-init/status.json && echo yes || echo none)"
  ci_status_src="/run/cloud-init/status.json"
fi
ds=$(cloud-id 2>/dev/null || true)
ds_src="cloud-id"
if [ -z "$ds" ]; then ds=$(jsonval datasource /run/cloud-init/result.json); ds_src="/run/cloud-init/result.json"; fi
if [ -z "$ds" ]; then ds=$(jsonval platform /run/cloud-init/instance-data.json); ds_src="/run/cloud-init/instance-data.json"; fi
# the config files that set datasource_list (the last one read wins): "file: line" each
ds_cfg=""
for f in /etc/cloud/cloud.cfg /etc/cloud/cloud.cfg.d/*.cfg; do
  [ -r "$f" ] || continue
  l=$(grep -E '^datasource_list:' "$f" | tail -n 1)
  [ -n "$l" ] && ds_cfg="$ds_cfg${ds_cfg:+,}\"$(esc "$f: $l")\""
done
# open-vm-tools
vt_path=$(command -v vmtoolsd 2>/dev/null || true)
vt_ver=$(vmtoolsd -v 2>/dev/null | head -n 1 || true)
vt_ver_src="vmtoolsd -v"
if [ -z "$vt_ver" ]; then vt_ver=$(pkgver open-vm-tools); vt_ver_src="dpkg status"; fi
rpctool=$(command -v vmware-rpctool 2>/dev/null || true)
# what cloud-init applied from guestinfo
host_now=$(hostname 2>/dev/null || cat /etc/hostname 2>/dev/null || true)
ip_src=""
if ip -o addr show 2>/dev/null | grep -q " $want_ip/"; then ip_src="interface"
else
  for f in /etc/netplan/*.yaml /etc/network/interfaces /etc/network/interfaces.d/* /etc/systemd/network/*.network /etc/NetworkManager/system-connections/*; do
    [ -r "$f" ] && grep -q "$want_ip" "$f" && { ip_src="$f"; break; }
  done
fi
key_in=""
for f in /root/.ssh/authorized_keys /home/*/.ssh/authorized_keys; do
  [ -r "$f" ] && grep -qF "$want_key" "$f" && { key_in="$f"; break; }
done
report="{\"probe\":1,\"cloudInitPath\":\"$(esc "$ci_path")\",\"cloudInitVersion\":\"$(esc "$ci_ver")\",\"cloudInitVersionSource\":\"$ci_ver_src\""
report="$report,\"cloudInitStatus\":\"$(esc "$ci_status")\",\"cloudInitStatusSource\":\"$ci_status_src\",\"datasource\":\"$(esc "$ds")\",\"datasourceSource\":\"$ds_src\""
report="$report,\"datasourceListFiles\":[$ds_cfg],\"vmtoolsdPath\":\"$(esc "$vt_path")\",\"vmtoolsVersion\":\"$(esc "$vt_ver")\",\"vmtoolsVersionSource\":\"$vt_ver_src\",\"rpctoolPath\":\"$(esc "$rpctool")\""
report="$report,\"hostname\":\"$(esc "$host_now")\",\"ipFoundIn\":\"$(esc "$ip_src")\",\"keyFoundIn\":\"$(esc "$key_in")\"}"
printf 'CESO-PROBE-REPORT %s\n' "$report" >/dev/ttyS0
sync 2>/dev/null || true
poweroff
