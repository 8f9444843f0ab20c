#!/usr/bin/env python3
"""Runs user data through cloud-init's own user-data processing, as an instance would.

Usage: cloudinit_userdata.py USER_DATA_FILE WORK_DIR INDEX...

For each launch INDEX: cloud-init's UserDataProcessor decodes the user data, its launch-index
filter keeps the parts for that index, and its default part handlers (cloud-config merging,
shell scripts) consume them into WORK_DIR/INDEX, as `cloud-init init` does. Prints one JSON
object per index: the parts seen in order, the merged cloud-config, the names of the boot
scripts in the order cloud-init's scripts-user module runs them, and the schema errors of the
merged cloud-config (strict).
"""
import json
import os
import sys

from cloudinit import handlers, helpers, safeyaml, user_data
from cloudinit.config.schema import SchemaValidationError, get_schema, validate_cloudconfig_schema
from cloudinit.filters import launch_index
from cloudinit.handlers.cloud_config import CloudConfigPartHandler
from cloudinit.handlers.shell_script import ShellScriptPartHandler
from cloudinit.settings import PER_INSTANCE


class Instance:
    """The part of a datasource the handlers ask for."""

    def get_instance_id(self):
        return "i-0123456789abcdef0"


def consume(msg, work):
    paths = helpers.Paths({"cloud_dir": os.path.join(work, "cloud"), "run_dir": os.path.join(work, "run")}, ds=Instance())
    os.makedirs(paths.get_ipath_cur("scripts"), exist_ok=True)
    c_handlers = helpers.ContentHandlers()
    for mod in (CloudConfigPartHandler(paths=paths), ShellScriptPartHandler(paths=paths)):
        c_handlers.register(mod, overwrite=False)
    mods = []
    for _, mod in c_handlers.items():
        if mod not in mods:
            mods.append(mod)
            handlers.call_begin(mod, None, PER_INSTANCE)
    seen = []

    def callback(data, filename, payload, headers):
        seen.append({"type": headers["Content-Type"], "filename": filename,
                     "launch_index": headers.get("Launch-Index")})
        handlers.walker_callback(data, filename, payload, headers)

    handlers.walk(msg, callback, {"handlers": c_handlers, "handlerdir": work, "data": None,
                                  "frequency": PER_INSTANCE, "handlercount": 0, "excluded": []})
    for mod in mods:
        handlers.call_end(mod, None, PER_INSTANCE)
    with open(paths.get_ipath("cloud_config")) as f:
        merged = f.read()
    scripts = sorted(os.listdir(paths.get_ipath_cur("scripts")))  # util.runparts runs them sorted
    return seen, merged, scripts


def main():
    raw = open(sys.argv[1], "rb").read()
    work = sys.argv[2]
    for idx in sys.argv[3:]:
        paths = helpers.Paths({"cloud_dir": os.path.join(work, "proc")}, ds=Instance())
        msg = user_data.UserDataProcessor(paths).process(raw)
        msg = launch_index.Filter(int(idx)).apply(msg)
        seen, merged, scripts = consume(msg, os.path.join(work, idx))
        errors = []
        try:
            validate_cloudconfig_schema(safeyaml.load(merged), get_schema(), strict=True, log_details=False)
        except SchemaValidationError as e:
            errors = [str(e)]
        print(json.dumps({"index": int(idx), "parts": seen, "cloud_config": merged,
                          "scripts": scripts, "schema_errors": errors}))


if __name__ == "__main__":
    main()
