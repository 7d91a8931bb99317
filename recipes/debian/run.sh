#!/usr/bin/env bash
# This recipe end to end; see README.md beside this file. Options: [--debug | --gpu] [--source PATH] [--out DIR]
exec "$(dirname "$0")/../run.sh" "$(basename "$(cd "$(dirname "$0")" && pwd)")" "$@"
