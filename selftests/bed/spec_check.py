#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# spec_check.py SPEC.yaml SCHEMA.yaml HEADER.h
#
# The genetlink YAML spec and the hand-written uapi header must agree: the
# spec is valid against the kernel's genetlink schema, and every name the
# kernel's YNL generator would render from it (commands, attributes,
# enums, constants) is in the header with the same value, and the header's
# netlink enums hold nothing the spec lacks.  Also checks each attribute's
# type against the header's comment ("/* u64 */").  Prints what differs;
# exit status 1 if anything does.

import re
import sys

try:
    import jsonschema
    import yaml
except ImportError as e:
    sys.exit(f'spec_check: {e}: install python3-yaml and python3-jsonschema')


def c_name(*parts):
    return '_'.join(p for p in parts if p).upper().replace('-', '_')


def strip_comments(text):
    return re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)


def header_enums(text):
    """{enum name: [(entry, value, comment)]} with implicit values."""
    enums = {}
    for m in re.finditer(r'enum\s+(\w+)\s*\{(.*?)\};', text, re.S):
        entries, value = [], -1
        for line in m.group(2).splitlines():
            e = re.match(r'\s*(\w+)\s*(?:=\s*([^,/]+?))?\s*,?\s*(?:/\*\s*(.*?)\s*\*/)?\s*$',
                         line)
            if not e or not e.group(1):
                continue
            if e.group(2) is not None:
                expr = e.group(2).strip()
                known = {n: v for n, v, _ in entries}
                value = eval(expr, {}, known)
            else:
                value += 1
            entries.append((e.group(1), value, e.group(3) or ''))
        enums[m.group(1)] = entries
    return enums


def header_defines(text):
    defs = {}
    for m in re.finditer(r'^#define\s+(\w+)\s+(.+?)\s*$', strip_comments(text), re.M):
        val = m.group(2).strip()
        num = re.fullmatch(r'\(?\s*(0x[0-9a-fA-F]+|\d+)U?L*L?\s*\)?', val)
        if num:
            defs[m.group(1)] = int(num.group(1), 0)
        else:
            s = re.fullmatch(r'"(.*)"', val)
            if s:
                defs[m.group(1)] = s.group(1)
    return defs


def main():
    spec_path, schema_path, header_path = sys.argv[1:4]
    spec = yaml.safe_load(open(spec_path))
    schema = yaml.safe_load(open(schema_path))
    text = open(header_path).read()
    errors = []
    checked = 0

    try:
        jsonschema.validate(spec, schema)
    except jsonschema.ValidationError as e:
        errors.append(f'{spec_path} does not follow {schema_path}: {e.message}')

    defines = header_defines(text)
    enums = header_enums(text)
    family = spec['name']

    def expect_define(name, value, what):
        nonlocal checked
        checked += 1
        if name not in defines:
            errors.append(f'{what}: {name} is not #defined in {header_path}')
        elif defines[name] != value:
            errors.append(f'{what}: {name} is {defines[name]!r} in the header, '
                          f'{value!r} in the spec')

    expect_define('KVMMIG_GENL_NAME', family, 'family name')
    expect_define('KVMMIG_GENL_VERSION', spec.get('version', 1), 'family version')
    groups = [g['name'] for g in spec['mcast-groups']['list']]
    for g in groups:
        expect_define(c_name(family, 'genl-mcgrp', g), g, 'multicast group')

    # Definitions: constants and enums become #defines in this header.
    rendered = set()
    for d in spec.get('definitions', []):
        if d['type'] == 'const':
            name = c_name(family, d['name'])
            expect_define(name, d['value'], 'const')
            rendered.add(name)
        elif d['type'] == 'enum':
            value = d.get('value-start', 0)
            for e in d['entries']:
                e = e if isinstance(e, dict) else {'name': e}
                value = e.get('value', value)
                name = c_name(family, d['name'], e['name'])
                expect_define(name, value, f"enum {d['name']}")
                rendered.add(name)
                value += 1
    # Nothing in those groups of #defines that the spec does not know,
    # except flags, which are ioctl matters.
    for name in defines:
        if re.match(r'KVMMIG_(SESSION|BLOB|REASON|DIRTY_MODE)_', name) and \
           name not in rendered and '_F_' not in name and \
           not name.endswith('FLAGS_ALL'):
            errors.append(f'{name} is in the header but not in the spec')

    def compare_enum(enum_name, prefix, items, what):
        """items: [(c name, value, yaml type or None)]"""
        nonlocal checked
        names = {n for n, _, _ in enums.get(enum_name, [])}
        # UNSPEC, __FOO_MAX and FOO_MAX are not in specs: YNL adds them.
        got = [(n, v, c) for n, v, c in enums.get(enum_name, [])
               if not n.endswith('_UNSPEC') and not n.startswith('__') and
               '__' + n not in names]
        if enum_name not in enums:
            errors.append(f'{what}: no enum {enum_name} in {header_path}')
            return
        want = {n: (v, t) for n, v, t in items}
        have = {n: (v, c) for n, v, c in got}
        for n, (v, t) in want.items():
            checked += 1
            if n not in have:
                errors.append(f'{what}: {n} missing from enum {enum_name}')
                continue
            if have[n][0] != v:
                errors.append(f'{what}: {n} = {have[n][0]} in the header, {v} in the spec')
            comment = have[n][1].split(',')[0].split(' ')[0] if have[n][1] else ''
            if t and t != 'pad' and comment and comment != t:
                errors.append(f'{what}: {n} is "{comment}" in the header comment, '
                              f'{t} in the spec')
        for n in have:
            if n not in want:
                errors.append(f'{what}: {n} is in enum {enum_name} but not in the spec')
        for n, v, _ in got:
            if not n.startswith(prefix):
                errors.append(f'{what}: {n} does not start with {prefix}')

    for aset in spec['attribute-sets']:
        if 'subset-of' in aset:
            continue
        prefix = c_name(aset.get('name-prefix', f"{family}-{aset['name']}-a-"))
        items, value = [], 1
        for a in aset['attributes']:
            value = a.get('value', value)
            items.append((prefix + c_name(a['name']), value, a.get('type')))
            value += 1
        compare_enum(aset.get('enum-name', c_name(family, aset['name'], 'attrs').lower()),
                     prefix, items, f"attribute set {aset['name']}")

    ops = spec['operations']
    prefix = c_name(ops.get('name-prefix', f'{family}-cmd-'))
    items, value = [], 1
    for op in ops['list']:
        value = op.get('value', value)
        items.append((prefix + c_name(op['name']), value, None))
        value += 1
    compare_enum(ops.get('enum-name', f'{family}_cmd'), prefix, items, 'operations')

    for e in errors:
        print(f'spec_check: {e}')
    print(f'spec_check: {checked} names checked, {len(errors)} problems')
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
