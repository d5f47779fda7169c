#!/usr/bin/env python3
# qpatch.py FILE OP...: patch a qcow2 image in place.  OPs (offsets resolved from the header):
#   l1=I:VAL  l2=I:VAL (entries of the first L2 table)  rt=I:VAL  rb=I:VAL (16-bit refcount)
#   hdr=OFF:HEXBYTES  trunc=LEN  grow=LEN  l1or=I:MASK l2or=I:MASK l2and=I:MASK l1and=I:MASK
#   rbzero  sn=FIELD:VAL (first snapshot entry: l1off, l1size)
#   cpast=I: first-L2 entry I becomes a compressed cluster (a stored deflate block:
#     0x05 then zeros) in a new cluster at the end of the file, of which only the
#     first 6 bytes are in the file: the rest of its data (zeros) lies past the end
#     (clusters up to 32 KiB; 16-bit refcounts)
import struct, sys, os
f = sys.argv[1]
def rd(o, n):
    with open(f, 'rb') as h:
        h.seek(o); return h.read(n).ljust(n, b'\0')
def wr(o, b):
    with open(f, 'r+b') as h:
        h.seek(o); h.write(b)
def q(o): return struct.unpack('>Q', rd(o, 8))[0]
cb = struct.unpack('>I', rd(20, 4))[0]
l1 = q(40); rt = q(48); sn = q(64)
def l2(): return q(l1) & 0x00fffffffffffe00
def num(s): return int(s, 0)
for op in sys.argv[2:]:
    k, v = op.split('=', 1) if '=' in op else (op, '')
    if k in ('l1', 'l2', 'rt', 'l1or', 'l2or', 'l1and', 'l2and'):
        i, val = v.split(':')
        base = {'l1': l1, 'l2': None, 'rt': rt}.get(k[:2], None)
        base = l1 if k.startswith('l1') else rt if k == 'rt' else l2()
        o = base + 8 * num(i)
        val = num(val)
        if k.endswith('or'): val |= q(o)
        if k.endswith('and'): val &= q(o)
        wr(o, struct.pack('>Q', val))
    elif k == 'rb':
        i, val = v.split(':')
        wr((q(rt) & ~511) + 2 * num(i), struct.pack('>H', num(val)))
    elif k == 'rbzero':
        wr(q(rt) & ~511, bytes(1 << cb))
    elif k == 'hdr':
        o, hx = v.split(':')
        wr(num(o), bytes.fromhex(hx))
    elif k == 'trunc':
        os.truncate(f, num(v))
    elif k == 'grow':
        os.truncate(f, os.path.getsize(f) + num(v))
    elif k == 'sn':
        fld, val = v.split(':')
        o = {'l1off': 0, 'l1size': 8, 'idlen': 12, 'extra': 36}[fld]
        wr(sn + o, struct.pack('>Q' if fld == 'l1off' else ('>H' if fld == 'idlen' else '>I'), num(val)))
    elif k == 'cpast':
        cs = 1 << cb
        c = (os.path.getsize(f) + cs - 1) // cs
        stream = bytes([1]) + struct.pack('<HH', cs, cs ^ 0xffff) + bytes([5])
        wr(c * cs, stream)
        nsect = (5 + cs + 511) // 512
        x = 62 - (cb - 8)
        wr(l2() + 8 * num(v), struct.pack('>Q', (1 << 62) | ((nsect - 1) << x) | (c * cs)))
        wr((q(rt) & ~511) + 2 * c, struct.pack('>H', 1))
    else:
        sys.exit('qpatch: unknown op ' + op)
