-- vhost-user.lua -- Wireshark/tshark dissector for vhost-conform traces.
--
-- A trace is a pcap of link type WIRESHARK_UPPER_PDU (252) whose records carry
-- an exported-PDU tag naming the dissector "vhost-user"; Wireshark's
-- exported_pdu dissector hands the rest of the record to this one (see
-- traces/FORMAT.md). Load it with
--
--   tshark -X lua_script:traces/wireshark/vhost-user.lua -r trace.pcap -V
--
-- or copy it into ~/.local/lib/wireshark/plugins/. Everything is little-endian
-- (x86-64 host order, which vhost-user uses).
--
-- The request names and payload layouts follow frontend-sim/wire/vc-msg-table.h
-- and vc-proto.h (vhost-user.rst "Front-end message types", "Back-end message
-- types"); a test compares this decoder with `vhost-conform trace show`.

local p = Proto("vhost-user", "vhost-user (vhost-conform trace)")

local KINDS = { [1] = "F2B", [2] = "B2F", [3] = "MARK", [4] = "KICK", [5] = "CALL",
                [6] = "AVAIL", [7] = "USED" }
local FD_KINDS = { [0] = "invalid", [1] = "memfd", [2] = "eventfd", [3] = "socket",
                   [4] = "pipe", [5] = "file", [6] = "other" }

-- Payload kinds (VcPayloadKind).
local NONE, U64, STATE, ADDR, MEMTAB, LOG, IOTLB, CONFIG, OPAQUE, INFLIGHT, MEMREG,
      SHARED, DEVSTATE, SHMEMCFG, AREA, MMAP, ANY =
      "none", "u64", "state", "addr", "memtab", "log", "iotlb", "config", "opaque",
      "inflight", "memreg", "shared", "devstate", "shmemcfg", "area", "mmap", "any"

-- Front-end requests on the main socket: name, request payload, reply payload.
local MAIN = {
    [1]  = { "GET_FEATURES", NONE, U64 },
    [2]  = { "SET_FEATURES", U64, U64 },
    [3]  = { "SET_OWNER", NONE, U64 },
    [4]  = { "RESET_OWNER", NONE, U64 },
    [5]  = { "SET_MEM_TABLE", MEMTAB, U64 },
    [6]  = { "SET_LOG_BASE", LOG, ANY },
    [7]  = { "SET_LOG_FD", NONE, U64 },
    [8]  = { "SET_VRING_NUM", STATE, U64 },
    [9]  = { "SET_VRING_ADDR", ADDR, U64 },
    [10] = { "SET_VRING_BASE", STATE, U64 },
    [11] = { "GET_VRING_BASE", STATE, STATE },
    [12] = { "SET_VRING_KICK", U64, U64 },
    [13] = { "SET_VRING_CALL", U64, U64 },
    [14] = { "SET_VRING_ERR", U64, U64 },
    [15] = { "GET_PROTOCOL_FEATURES", NONE, U64 },
    [16] = { "SET_PROTOCOL_FEATURES", U64, U64 },
    [17] = { "GET_QUEUE_NUM", NONE, U64 },
    [18] = { "SET_VRING_ENABLE", STATE, U64 },
    [19] = { "SEND_RARP", U64, U64 },
    [20] = { "NET_SET_MTU", U64, U64 },
    [21] = { "SET_BACKEND_REQ_FD", NONE, U64 },
    [22] = { "IOTLB_MSG", IOTLB, U64 },
    [23] = { "SET_VRING_ENDIAN", STATE, U64 },
    [24] = { "GET_CONFIG", CONFIG, CONFIG },
    [25] = { "SET_CONFIG", CONFIG, U64 },
    [26] = { "CREATE_CRYPTO_SESSION", OPAQUE, OPAQUE },
    [27] = { "CLOSE_CRYPTO_SESSION", U64, U64 },
    [28] = { "POSTCOPY_ADVISE", NONE, NONE },
    [29] = { "POSTCOPY_LISTEN", NONE, U64 },
    [30] = { "POSTCOPY_END", NONE, U64 },
    [31] = { "GET_INFLIGHT_FD", INFLIGHT, INFLIGHT },
    [32] = { "SET_INFLIGHT_FD", INFLIGHT, U64 },
    [33] = { "GPU_SET_SOCKET", NONE, U64 },
    [34] = { "RESET_DEVICE", NONE, U64 },
    [35] = { "VRING_KICK", STATE, U64 },
    [36] = { "GET_MAX_MEM_SLOTS", NONE, U64 },
    [37] = { "ADD_MEM_REG", MEMREG, U64 },
    [38] = { "REM_MEM_REG", MEMREG, U64 },
    [39] = { "SET_STATUS", U64, U64 },
    [40] = { "GET_STATUS", NONE, U64 },
    [41] = { "GET_SHARED_OBJECT", SHARED, U64 },
    [42] = { "SET_DEVICE_STATE_FD", DEVSTATE, U64 },
    [43] = { "CHECK_DEVICE_STATE", NONE, U64 },
    [44] = { "GET_SHMEM_CONFIG", NONE, SHMEMCFG },
}

-- Back-end requests on the back-end channel; the "reply" is the front end's answer.
local BACKEND = {
    [1]  = { "BACKEND_IOTLB_MSG", IOTLB, U64 },
    [2]  = { "BACKEND_CONFIG_CHANGE_MSG", NONE, U64 },
    [3]  = { "BACKEND_VRING_HOST_NOTIFIER_MSG", AREA, U64 },
    [4]  = { "BACKEND_VRING_CALL", STATE, U64 },
    [5]  = { "BACKEND_VRING_ERR", STATE, U64 },
    [6]  = { "BACKEND_SHARED_OBJECT_ADD", SHARED, U64 },
    [7]  = { "BACKEND_SHARED_OBJECT_REMOVE", SHARED, U64 },
    [8]  = { "BACKEND_SHARED_OBJECT_LOOKUP", SHARED, U64 },
    [9]  = { "BACKEND_SHMEM_MAP", MMAP, U64 },
    [10] = { "BACKEND_SHMEM_UNMAP", MMAP, U64 },
}

local FEATURES = {
    [24] = "NOTIFY_ON_EMPTY", [26] = "LOG_ALL", [27] = "ANY_LAYOUT", [28] = "INDIRECT_DESC",
    [29] = "EVENT_IDX", [30] = "PROTOCOL_FEATURES", [32] = "VERSION_1",
    [33] = "ACCESS_PLATFORM", [34] = "RING_PACKED", [35] = "IN_ORDER",
    [36] = "ORDER_PLATFORM", [37] = "SR_IOV", [38] = "NOTIFICATION_DATA",
    [39] = "NOTIF_CONFIG_DATA", [40] = "RING_RESET", [41] = "ADMIN_VQ",
}

local PFEATURES = {
    [0] = "MQ", [1] = "LOG_SHMFD", [2] = "RARP", [3] = "REPLY_ACK", [4] = "NET_MTU",
    [5] = "BACKEND_REQ", [6] = "CROSS_ENDIAN", [7] = "CRYPTO_SESSION", [8] = "PAGEFAULT",
    [9] = "CONFIG", [10] = "BACKEND_SEND_FD", [11] = "HOST_NOTIFIER", [12] = "INFLIGHT_SHMFD",
    [13] = "RESET_DEVICE", [14] = "INBAND_NOTIFICATIONS", [15] = "CONFIGURE_MEM_SLOTS",
    [16] = "STATUS", [17] = "XEN_MMAP", [18] = "SHARED_OBJECT", [19] = "DEVICE_STATE",
    [20] = "GET_VRING_BASE_INFLIGHT", [21] = "GPA_ADDRESSES", [22] = "SHMEM",
}

local function names_of(t)
    local v = {}
    for id, row in pairs(t) do v[id] = "VHOST_USER_" .. row[1] end
    return v
end

local f = {
    version     = ProtoField.uint8("vhost-user.version", "Prefix version"),
    kind        = ProtoField.uint8("vhost-user.kind", "Record kind", base.DEC, KINDS),
    nfds        = ProtoField.uint8("vhost-user.nfds", "Fd descriptors"),
    nfds_total  = ProtoField.uint8("vhost-user.nfds_total", "Fds attached"),
    conn        = ProtoField.uint32("vhost-user.conn", "Connection"),
    channel     = ProtoField.string("vhost-user.channel", "Channel"),
    rflags      = ProtoField.uint32("vhost-user.record_flags", "Record flags", base.HEX),
    rflag_raw   = ProtoField.bool("vhost-user.record_flags.raw", "Sent raw", 32, nil, 0x1),
    rflag_trunc = ProtoField.bool("vhost-user.record_flags.truncated", "Truncated", 32, nil, 0x2),
    wire_len    = ProtoField.uint32("vhost-user.wire_len", "Bytes on the wire"),
    fd          = ProtoField.none("vhost-user.fd", "Fd"),
    fd_kind     = ProtoField.uint8("vhost-user.fd.kind", "Kind", base.DEC, FD_KINDS),
    fd_ino      = ProtoField.uint32("vhost-user.fd.ino", "Inode (low 32 bits)"),
    fd_size     = ProtoField.uint64("vhost-user.fd.size", "Size"),
    mark        = ProtoField.string("vhost-user.mark", "Marker"),
    dp_queue    = ProtoField.uint32("vhost-user.dp.queue", "Queue"),
    dp_head     = ProtoField.uint32("vhost-user.dp.head", "Chain head"),
    dp_len      = ProtoField.uint32("vhost-user.dp.len", "Length"),

    request     = ProtoField.uint32("vhost-user.request", "Request", base.DEC, names_of(MAIN)),
    brequest    = ProtoField.uint32("vhost-user.backend_request", "Back-end request", base.DEC,
                                    names_of(BACKEND)),
    name        = ProtoField.string("vhost-user.name", "Request name"),
    flags       = ProtoField.uint32("vhost-user.flags", "Flags", base.HEX),
    flag_ver    = ProtoField.uint32("vhost-user.flags.version", "Version", base.DEC, nil, 0x3),
    flag_reply  = ProtoField.bool("vhost-user.flags.reply", "REPLY", 32, nil, 0x4),
    flag_need   = ProtoField.bool("vhost-user.flags.need_reply", "NEED_REPLY", 32, nil, 0x8),
    flag_undef  = ProtoField.uint32("vhost-user.flags.undefined", "Undefined bits", base.HEX,
                                    nil, 0xfffffff0),
    size        = ProtoField.uint32("vhost-user.size", "Payload size"),
    is_reply    = ProtoField.bool("vhost-user.is_reply", "Is a reply"),
    payload     = ProtoField.bytes("vhost-user.payload", "Payload"),

    u64         = ProtoField.uint64("vhost-user.u64", "u64", base.HEX),
    features    = ProtoField.uint64("vhost-user.features", "Features", base.HEX),
    feature     = ProtoField.string("vhost-user.feature", "Feature"),
    pfeatures   = ProtoField.uint64("vhost-user.protocol_features", "Protocol features", base.HEX),
    pfeature    = ProtoField.string("vhost-user.protocol_feature", "Protocol feature"),
    status      = ProtoField.uint8("vhost-user.status", "Device status", base.HEX),
    vr_index    = ProtoField.uint32("vhost-user.vring.index", "Vring index"),
    vr_num      = ProtoField.uint32("vhost-user.vring.num", "Num"),
    vr_nofd     = ProtoField.bool("vhost-user.vring.nofd", "No fd (NOFD bit)"),
    vr_flags    = ProtoField.uint32("vhost-user.vring.flags", "Address flags", base.HEX),
    vr_desc     = ProtoField.uint64("vhost-user.vring.desc", "Descriptor table", base.HEX),
    vr_used     = ProtoField.uint64("vhost-user.vring.used", "Used ring", base.HEX),
    vr_avail    = ProtoField.uint64("vhost-user.vring.avail", "Available ring", base.HEX),
    vr_log      = ProtoField.uint64("vhost-user.vring.log", "Log guest address", base.HEX),
    nregions    = ProtoField.uint32("vhost-user.mem.nregions", "Regions"),
    region      = ProtoField.none("vhost-user.mem.region", "Region"),
    gpa         = ProtoField.uint64("vhost-user.mem.gpa", "Guest physical address", base.HEX),
    msize       = ProtoField.uint64("vhost-user.mem.size", "Size", base.HEX),
    uva         = ProtoField.uint64("vhost-user.mem.uva", "User address", base.HEX),
    moff        = ProtoField.uint64("vhost-user.mem.mmap_offset", "Mmap offset", base.HEX),
    log_size    = ProtoField.uint64("vhost-user.log.mmap_size", "Log mmap size", base.HEX),
    log_off     = ProtoField.uint64("vhost-user.log.mmap_offset", "Log mmap offset", base.HEX),
    iova        = ProtoField.uint64("vhost-user.iotlb.iova", "IOVA", base.HEX),
    isize       = ProtoField.uint64("vhost-user.iotlb.size", "Size", base.HEX),
    iuaddr      = ProtoField.uint64("vhost-user.iotlb.uaddr", "User address", base.HEX),
    iperm       = ProtoField.uint8("vhost-user.iotlb.perm", "Permission", base.DEC,
                                   { [0] = "none", [1] = "RO", [2] = "WO", [3] = "RW" }),
    itype       = ProtoField.uint8("vhost-user.iotlb.type", "Type", base.DEC,
                                   { [1] = "miss", [2] = "update", [3] = "invalidate",
                                     [4] = "access-fail" }),
    cfg_off     = ProtoField.uint32("vhost-user.config.offset", "Config offset"),
    cfg_size    = ProtoField.uint32("vhost-user.config.size", "Config size"),
    cfg_flags   = ProtoField.uint32("vhost-user.config.flags", "Config flags", base.HEX),
    cfg_data    = ProtoField.bytes("vhost-user.config.data", "Config data"),
    if_size     = ProtoField.uint64("vhost-user.inflight.mmap_size", "Inflight mmap size", base.HEX),
    if_off      = ProtoField.uint64("vhost-user.inflight.mmap_offset", "Inflight mmap offset",
                                    base.HEX),
    if_nq       = ProtoField.uint16("vhost-user.inflight.num_queues", "Queues"),
    if_qs       = ProtoField.uint16("vhost-user.inflight.queue_size", "Queue size"),
    uuid        = ProtoField.bytes("vhost-user.uuid", "UUID"),
    ds_dir      = ProtoField.uint32("vhost-user.device_state.direction", "Direction", base.DEC,
                                    { [0] = "save", [1] = "load" }),
    ds_phase    = ProtoField.uint32("vhost-user.device_state.phase", "Phase", base.DEC,
                                    { [0] = "stopped" }),
    shm_n       = ProtoField.uint32("vhost-user.shmem.nregions", "Shared memory regions"),
    shm_size    = ProtoField.uint64("vhost-user.shmem.size", "Region size", base.HEX),
    area_size   = ProtoField.uint64("vhost-user.area.size", "Area size", base.HEX),
    area_off    = ProtoField.uint64("vhost-user.area.offset", "Area offset", base.HEX),
    mm_shmid    = ProtoField.uint8("vhost-user.mmap.shmid", "Shmid"),
    mm_fdoff    = ProtoField.uint64("vhost-user.mmap.fd_offset", "Fd offset", base.HEX),
    mm_shmoff   = ProtoField.uint64("vhost-user.mmap.shm_offset", "Shm offset", base.HEX),
    mm_len      = ProtoField.uint64("vhost-user.mmap.len", "Length", base.HEX),
    mm_flags    = ProtoField.uint64("vhost-user.mmap.flags", "Flags", base.HEX),
}

local fields = {}
for _, v in pairs(f) do fields[#fields + 1] = v end
p.fields = fields

local e_short = ProtoExpert.new("vhost-user.short", "Record shorter than its own lengths",
                                expert.group.MALFORMED, expert.severity.ERROR)
local e_size = ProtoExpert.new("vhost-user.bad_size", "Payload size does not fit the request",
                               expert.group.MALFORMED, expert.severity.WARN)
p.experts = { e_short, e_size }

local SIZES = { [NONE] = 0, [U64] = 8, [STATE] = 8, [ADDR] = 40, [LOG] = 16, [IOTLB] = 32,
                [INFLIGHT] = 24, [MEMREG] = 40, [SHARED] = 16, [DEVSTATE] = 8,
                [SHMEMCFG] = 2056, [AREA] = 24, [MMAP] = 40 }

local function add_bits(tree, field, value, names)
    for bit = 0, 63 do
        if value:band(UInt64(1):lshift(bit)) ~= UInt64(0) then
            tree:add(field, names[bit] or ("bit" .. bit))
        end
    end
end

local function region(tree, tvb)
    local t = tree:add(f.region, tvb)
    t:add_le(f.gpa, tvb(0, 8))
    t:add_le(f.msize, tvb(8, 8))
    t:add_le(f.uva, tvb(16, 8))
    t:add_le(f.moff, tvb(24, 8))
    t:append_text(string.format(" gpa=0x%s size=0x%s", tvb(0, 8):le_uint64():tohex(),
                                tvb(8, 8):le_uint64():tohex()))
end

-- Decodes payload @pl (a TvbRange of exactly hdr.size bytes, or fewer when truncated).
local function payload(tree, pl, kind, ch, req, is_reply, pinfo)
    local n = pl:len()
    local want = SIZES[kind]
    if want ~= nil and n ~= want then
        if n > 0 then tree:add(f.payload, pl) end
        if not (is_reply and kind == U64 and n == 0) then
            tree:add_proto_expert_info(e_size, string.format("size %d, a %s payload has %d",
                                                            n, kind, want))
        end
        return
    end
    if kind == NONE then
        return
    elseif kind == U64 then
        local v = pl(0, 8):le_uint64()
        if ch == "main" and (req == 1 or req == 2) then
            local t = tree:add_le(f.features, pl(0, 8))
            add_bits(t, f.feature, v, FEATURES)
        elseif ch == "main" and (req == 15 or req == 16) then
            local t = tree:add_le(f.pfeatures, pl(0, 8))
            add_bits(t, f.pfeature, v, PFEATURES)
        elseif ch == "main" and not is_reply and (req == 12 or req == 13 or req == 14) then
            tree:add_le(f.vr_index, pl(0, 4), pl(0, 1):uint())
            tree:add(f.vr_nofd, pl(1, 1), pl(1, 1):bitfield(7, 1) == 1)
        elseif ch == "main" and ((not is_reply and req == 39) or (is_reply and req == 40)) then
            tree:add_le(f.u64, pl(0, 8))
            tree:add(f.status, pl(0, 1))
        else
            tree:add_le(f.u64, pl(0, 8))
        end
    elseif kind == STATE then
        tree:add_le(f.vr_index, pl(0, 4))
        tree:add_le(f.vr_num, pl(4, 4))
    elseif kind == ADDR then
        tree:add_le(f.vr_index, pl(0, 4))
        tree:add_le(f.vr_flags, pl(4, 4))
        tree:add_le(f.vr_desc, pl(8, 8))
        tree:add_le(f.vr_used, pl(16, 8))
        tree:add_le(f.vr_avail, pl(24, 8))
        tree:add_le(f.vr_log, pl(32, 8))
    elseif kind == MEMTAB then
        if n < 8 then tree:add(f.payload, pl) return end
        tree:add_le(f.nregions, pl(0, 4))
        local count = pl(0, 4):le_uint()
        for i = 0, math.min(count, 8) - 1 do
            if 8 + 32 * (i + 1) > n then break end
            region(tree, pl(8 + 32 * i, 32))
        end
    elseif kind == MEMREG then
        region(tree, pl(8, 32))
    elseif kind == LOG then
        tree:add_le(f.log_size, pl(0, 8))
        tree:add_le(f.log_off, pl(8, 8))
    elseif kind == IOTLB then
        tree:add_le(f.iova, pl(0, 8))
        tree:add_le(f.isize, pl(8, 8))
        tree:add_le(f.iuaddr, pl(16, 8))
        tree:add(f.iperm, pl(24, 1))
        tree:add(f.itype, pl(25, 1))
    elseif kind == CONFIG then
        if n == 0 then return end
        if n < 12 then tree:add(f.payload, pl) return end
        tree:add_le(f.cfg_off, pl(0, 4))
        tree:add_le(f.cfg_size, pl(4, 4))
        tree:add_le(f.cfg_flags, pl(8, 4))
        if n > 12 then tree:add(f.cfg_data, pl(12, n - 12)) end
    elseif kind == INFLIGHT then
        tree:add_le(f.if_size, pl(0, 8))
        tree:add_le(f.if_off, pl(8, 8))
        tree:add_le(f.if_nq, pl(16, 2))
        tree:add_le(f.if_qs, pl(18, 2))
    elseif kind == SHARED then
        tree:add(f.uuid, pl(0, 16))
    elseif kind == DEVSTATE then
        tree:add_le(f.ds_dir, pl(0, 4))
        tree:add_le(f.ds_phase, pl(4, 4))
    elseif kind == SHMEMCFG then
        tree:add_le(f.shm_n, pl(0, 4))
        for i = 0, 255 do
            local r = pl(8 + 8 * i, 8)
            if r:le_uint64() ~= UInt64(0) then
                tree:add_le(f.shm_size, r):prepend_text("shm" .. i .. " ")
            end
        end
    elseif kind == AREA then
        tree:add_le(f.vr_index, pl(0, 4), pl(0, 1):uint())
        tree:add(f.vr_nofd, pl(1, 1), pl(1, 1):bitfield(7, 1) == 1)
        tree:add_le(f.area_size, pl(8, 8))
        tree:add_le(f.area_off, pl(16, 8))
    elseif kind == MMAP then
        tree:add(f.mm_shmid, pl(0, 1))
        tree:add_le(f.mm_fdoff, pl(8, 8))
        tree:add_le(f.mm_shmoff, pl(16, 8))
        tree:add_le(f.mm_len, pl(24, 8))
        tree:add_le(f.mm_flags, pl(32, 8))
    else
        if n == 8 then tree:add_le(f.u64, pl(0, 8)) elseif n > 0 then tree:add(f.payload, pl) end
    end
end

local function message(tree, tvb, pinfo, kind, conn, rflags)
    local ch = (conn % 2 == 1) and "backend" or "main"
    -- F2B on the main socket and B2F on the back-end channel are requests.
    local is_request = (kind == 1) == (ch == "main")
    local n = tvb:len()
    tree:add(f.channel, ch == "main" and "main socket" or "back-end channel")
    if n < 12 then
        tree:add(f.payload, tvb())
        tree:add_proto_expert_info(e_short, "fewer bytes than a 12-byte header")
        return
    end
    local req = tvb(0, 4):le_uint()
    local flags = tvb(4, 4):le_uint()
    local size = tvb(8, 4):le_uint()
    local tab = ch == "main" and MAIN or BACKEND
    local row = tab[req]
    local name = row and ("VHOST_USER_" .. row[1]) or "UNKNOWN"
    local is_reply = bit.band(flags, 4) ~= 0
    tree:add(f.name, tvb(0, 4), name)
    tree:add_le(ch == "main" and f.request or f.brequest, tvb(0, 4))
    local ft = tree:add_le(f.flags, tvb(4, 4))
    ft:add_le(f.flag_ver, tvb(4, 4))
    ft:add_le(f.flag_reply, tvb(4, 4))
    ft:add_le(f.flag_need, tvb(4, 4))
    ft:add_le(f.flag_undef, tvb(4, 4))
    tree:add_le(f.size, tvb(8, 4))
    tree:add(f.is_reply, not is_request)
    pinfo.cols.info:append(string.format(" %s%s", name, is_request and "" or " reply"))
    local avail = n - 12
    if avail < size and bit.band(rflags, 2) == 0 then
        tree:add_proto_expert_info(e_short, "payload shorter than the header's size")
    end
    local pn = math.min(avail, size)
    if pn > 0 and row then
        local pl = tvb(12, pn)
        local pt = tree:add(p, pl, "Payload")
        payload(pt, pl, is_request and row[2] or row[3], ch, req, not is_request, pinfo)
    elseif pn > 0 then
        tree:add(f.payload, tvb(12, pn))
    end
end

function p.dissector(tvb, pinfo, tree)
    if tvb:len() < 16 then
        return 0
    end
    pinfo.cols.protocol = "VHOST-USER"
    local t = tree:add(p, tvb())
    local kind = tvb(1, 1):uint()
    local nfds = tvb(2, 1):uint()
    local conn = tvb(4, 4):le_uint()
    local rflags = tvb(8, 4):le_uint()
    t:add(f.version, tvb(0, 1))
    t:add(f.kind, tvb(1, 1))
    t:add(f.nfds, tvb(2, 1))
    t:add(f.nfds_total, tvb(3, 1))
    t:add_le(f.conn, tvb(4, 4))
    local rt = t:add_le(f.rflags, tvb(8, 4))
    rt:add_le(f.rflag_raw, tvb(8, 4))
    rt:add_le(f.rflag_trunc, tvb(8, 4))
    t:add_le(f.wire_len, tvb(12, 4))
    local conn_text = conn == 0xffffffff and "-" or tostring(conn)
    pinfo.cols.info:set(string.format("conn %s %s", conn_text, KINDS[kind] or "?"))
    local off = 16
    for i = 0, nfds - 1 do
        if off + 16 > tvb:len() then
            t:add_proto_expert_info(e_short, "fd descriptors run past the record")
            return tvb:len()
        end
        local ft = t:add(f.fd, tvb(off, 16))
        local fk = tvb(off, 1):uint()
        ft:add(f.fd_kind, tvb(off, 1))
        ft:add_le(f.fd_ino, tvb(off + 4, 4))
        ft:add_le(f.fd_size, tvb(off + 8, 8))
        ft:append_text(string.format(" %d: %s", i, FD_KINDS[fk] or "?"))
        off = off + 16
    end
    local data = off < tvb:len() and tvb(off) or nil
    if kind == 1 or kind == 2 then
        if data then
            message(t, data:tvb(), pinfo, kind, conn, rflags)
        else
            t:add_proto_expert_info(e_short, "no message bytes")
        end
    elseif kind == 3 then
        local text = data and data:string() or ""
        t:add(f.mark, data or tvb(0, 0), text)
        pinfo.cols.info:append(" " .. text)
    elseif data and data:len() >= 12 then
        t:add_le(f.dp_queue, data(0, 4))
        t:add_le(f.dp_head, data(4, 4))
        t:add_le(f.dp_len, data(8, 4))
        pinfo.cols.info:append(string.format(" queue %d", data(0, 4):le_uint()))
    end
    return tvb:len()
end
