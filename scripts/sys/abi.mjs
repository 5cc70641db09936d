// What scripts/gen-sys.mjs takes from the kernel ABI, whatever the source (pinned BTF or a UAPI
// header): the enums and info structs by name, how union bpf_attr's members are grouped by command
// family, and member trees flattened to access paths.

import { KIND, anonymousEnums, enumValues, findType, memberTree } from './btf.mjs';

export const ENUMS = [
  { ts: 'BpfCmd', c: 'bpf_cmd', prefix: 'BPF_', nameFn: 'bpfCmdName', doc: 'bpf(2) commands (enum bpf_cmd).', kernelNames: true },
  { ts: 'MapType', c: 'bpf_map_type', prefix: 'BPF_MAP_TYPE_', nameFn: 'mapTypeName', doc: 'Map types (enum bpf_map_type).' },
  { ts: 'ProgramType', c: 'bpf_prog_type', prefix: 'BPF_PROG_TYPE_', nameFn: 'programTypeName', doc: 'Program types (enum bpf_prog_type).' },
  { ts: 'AttachType', c: 'bpf_attach_type', prefix: 'BPF_', nameFn: 'attachTypeName', doc: 'Attach types (enum bpf_attach_type).' },
  { ts: 'LinkType', c: 'bpf_link_type', prefix: 'BPF_LINK_TYPE_', nameFn: 'linkTypeName', doc: 'Link types (enum bpf_link_type).' },
];

export const INFO_STRUCTS = [
  { ts: 'MAP_INFO', c: 'bpf_map_info' },
  { ts: 'PROG_INFO', c: 'bpf_prog_info' },
  { ts: 'LINK_INFO', c: 'bpf_link_info' },
  { ts: 'BTF_INFO', c: 'bpf_btf_info' },
];

/** Counters (__MAX_BPF_CMD, MAX_BPF_LINK_TYPE) and deprecated aliases are not values to name. */
export function isEnumValue(e, name) {
  return name.startsWith(e.prefix) && !name.includes('MAX_') && !name.endsWith('_DEPRECATED');
}

// union bpf_attr's anonymous structs carry no name in BTF, so they are named by the command family the
// header's comments give them, recognised by their first member.
const ANONYMOUS_ATTR_GROUPS = {
  map_type: 'MAP_CREATE',
  map_fd: 'MAP_ELEM',
  prog_type: 'PROG_LOAD',
  pathname: 'OBJ',
  target_fd: 'PROG_ATTACH',
  start_id: 'GET_ID',
  btf: 'BTF_LOAD',
};
// Named members of union bpf_attr, by the command that uses them.
const NAMED_ATTR_GROUPS = { batch: 'MAP_BATCH', test: 'PROG_TEST_RUN', info: 'OBJ_GET_INFO_BY_FD', query: 'PROG_QUERY', raw_tracepoint: 'RAW_TRACEPOINT_OPEN' };

function firstLeaf(member) {
  return member.kind === 'field' ? member.name : firstLeaf(member.members[0]);
}

/** union bpf_attr's members (a member tree) as command families: { group, prefix, members }. */
export function attrGroups(members) {
  return members.map((member) => {
    if (member.kind !== 'struct') throw new Error(`union bpf_attr: unexpected direct member ${member.name}`);
    if (member.name) return { group: NAMED_ATTR_GROUPS[member.name] ?? member.name.toUpperCase(), prefix: [member.name], members: member.members };
    const first = firstLeaf(member);
    const group = ANONYMOUS_ATTR_GROUPS[first];
    if (!group) throw new Error(`union bpf_attr: anonymous struct starting with ${first} is new: name it in ANONYMOUS_ATTR_GROUPS`);
    return { group, prefix: [], members: member.members };
  });
}

/** Leaf fields of a member tree with their C access paths (anonymous aggregates add no path step). */
export function leaves(members, prefix, out = []) {
  for (const member of members) {
    if (member.kind === 'field') out.push({ ...member, path: [...prefix, member.name] });
    else leaves(member.members, member.name ? [...prefix, member.name] : prefix, out);
  }
  return out;
}

/** Root types gen-sys needs from a kernel's BTF: the enums, anonymous enums of BPF_F_* flags, bpf_attr, the info structs. */
export function btfRoots(types) {
  return [
    ...ENUMS.map((e) => findType(types, KIND.ENUM, e.c).id),
    ...anonymousEnums(types).filter((t) => enumValues(t).some((v) => v.name.startsWith('BPF_F_'))).map((t) => t.id),
    findType(types, KIND.UNION, 'bpf_attr').id,
    ...INFO_STRUCTS.map((s) => findType(types, KIND.STRUCT, s.c).id),
  ];
}

/** Enums, BPF_F_* flags of anonymous enums, and the bpf_attr/info layouts from BTF types. */
export function btfAbi(types) {
  const attrType = findType(types, KIND.UNION, 'bpf_attr');
  return {
    enums: ENUMS.map((e) => ({ ...e, values: enumValues(findType(types, KIND.ENUM, e.c)).filter((v) => isEnumValue(e, v.name)) })),
    flags: anonymousEnums(types).flatMap((t) => enumValues(t)).filter((v) => v.name.startsWith('BPF_F_')).map((v) => [v.name, v.value]),
    attrSize: attrType.sizeOrType,
    attr: attrGroups(memberTree(types, attrType)).map((g) => ({
      group: g.group,
      fields: leaves(g.members, g.prefix).map((f) => ({ key: f.path.slice(g.prefix.length), offset: f.offset, size: f.size })),
    })),
    infos: INFO_STRUCTS.map((s) => {
      const type = findType(types, KIND.STRUCT, s.c);
      return { ts: s.ts, c: s.c, size: type.sizeOrType, fields: leaves(memberTree(types, type), []).map((f) => ({ key: f.path, offset: f.offset, size: f.size })) };
    }),
  };
}
