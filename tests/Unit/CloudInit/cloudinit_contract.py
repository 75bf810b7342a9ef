#!/usr/bin/python3
"""Feeds Ceso's guestinfo to Debian's cloud-init exactly as a VMware guest would read it and prints what cloud-init
made of it as one JSON object. The guestinfo arrives through the VMware datasource's own envvar transport
(VMX_GUESTINFO=1, VMX_GUESTINFO_METADATA[_ENCODING], VMX_GUESTINFO_USERDATA[_ENCODING]), so decoding, metadata
processing, network config and user-data handling are cloud-init's code, not ours.
Usage: cloudinit_contract.py WORKDIR   (environment carries the guestinfo)."""
import json
import os
import subprocess
import sys

import yaml
from cloudinit import distros, helpers, settings, version
from cloudinit.net import netplan
from cloudinit.net.network_state import parse_net_config_data
from cloudinit.sources.DataSourceVMware import DataSourceVMware

work = sys.argv[1]
paths = helpers.Paths({"cloud_dir": os.path.join(work, "cloud"), "run_dir": os.path.join(work, "run")})
distro = distros.fetch("ubuntu")("ubuntu", {}, paths)
ds = DataSourceVMware(settings.CFG_BUILTIN, distro, paths)
out = {"cloudinit_version": version.version_string(), "get_data": ds.get_data()}
out["instance_id"] = ds.get_instance_id()
out["hostname"] = ds.get_hostname().hostname if hasattr(ds.get_hostname(), "hostname") else ds.get_hostname()
md = dict(ds.metadata)
md.pop("network", None)
out["metadata"] = md

if "network" in ds.metadata:
    state = parse_net_config_data(ds.network_config)
    renderer = netplan.Renderer({"netplan_path": "etc/netplan/50-cloud-init.yaml", "postcmds": False})
    renderer.render_network_state(state, target=work)
    with open(os.path.join(work, "etc/netplan/50-cloud-init.yaml")) as f:
        out["netplan"] = yaml.safe_load(f)

# User-data through cloud-init's own processor (handles #cloud-config, MIME multipart, gzip, includes).
message = ds.get_userdata()
configs, merged, schema = [], {}, []
for part in message.walk():
    if part.get_content_maintype() == "multipart":
        continue
    ctype = part.get_content_type()
    payload = part.get_payload(decode=True).decode("utf-8")
    if ctype == "text/cloud-config":
        cfg = yaml.safe_load(payload)
        configs.append(cfg)
        merged.update(cfg)
        path = os.path.join(work, "part-%d.yaml" % len(configs))
        with open(path, "w") as f:
            f.write(payload)
        r = subprocess.run(["cloud-init", "schema", "--config-file", path], capture_output=True, text=True)
        schema.append({"rc": r.returncode, "out": (r.stdout + r.stderr).strip()})
    else:
        configs.append({"_type": ctype, "_text": payload})
out["userdata_parts"] = configs
out["userdata"] = merged
out["schema"] = schema
print(json.dumps(out))
