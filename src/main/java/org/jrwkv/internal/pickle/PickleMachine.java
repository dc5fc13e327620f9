package org.jrwkv.internal.pickle;

import java.math.BigInteger;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jrwkv.convert.CheckpointException;

/**
 * A pickle virtual machine for the data-only subset that {@code torch.save} writes (protocol 2,
 * plus the harmless opcodes of protocols 0-5 that only build data). It never imports or calls
 * anything: globals, calls ({@code REDUCE}), {@code BUILD} and persistent ids are handed to a
 * {@link PickleResolver}, which accepts a whitelist. Every other opcode ({@code INST}, {@code OBJ},
 * {@code NEWOBJ}, extension codes, out-of-band buffers, ...) is refused with its name.
 *
 * <p>Values: Python {@code int} → {@link Long} (or {@link BigInteger} past 64 bits), {@code float}
 * → {@link Double}, {@code bool} → {@link Boolean}, {@code None} → null, {@code str} →
 * {@link String}, {@code bytes} → {@code byte[]}, tuple → {@link PyTuple}, list → {@link List},
 * dict → {@link PyDict}, set → {@link Set}.
 *
 * <p>Limits: the stream is bounded by its caller (data.pkl is read whole, at most 64 MiB); every
 * length is checked against the bytes left before anything is allocated; the stack, the marks and
 * the memo are capped.
 *
 * <p>Internal: not part of the public API.
 */
public final class PickleMachine {

    private static final int MAX_STACK = 1 << 22;
    private static final int MAX_MARKS = 1 << 16;
    private static final int MAX_MEMO = 1 << 24;
    private static final int MAX_LINE = 1024;

    private final String source;
    private final ByteBuffer in;
    private final PickleResolver resolver;
    private final List<Object> stack = new ArrayList<>();
    private final int[] marks = new int[MAX_MARKS];
    private int markCount;
    private final Map<Long, Object> memo = new HashMap<>();

    private PickleMachine(String source, byte[] data, PickleResolver resolver) {
        this.source = source;
        this.in = ByteBuffer.wrap(data).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        this.resolver = resolver;
    }

    /**
     * Runs a pickle stream to its STOP.
     *
     * @param source   a name for messages, e.g. {@code model.pth: data.pkl}
     * @param data     the stream
     * @param resolver accepts or refuses globals, calls and persistent ids
     * @return the object the stream builds
     * @throws CheckpointException if the stream is malformed, truncated or refused
     */
    public static Object load(String source, byte[] data, PickleResolver resolver) throws CheckpointException {
        return new PickleMachine(source, data, resolver).run();
    }

    private CheckpointException error(String message) {
        return new CheckpointException(source + ": " + message);
    }

    private Object run() throws CheckpointException {
        while (true) {
            if (!in.hasRemaining()) {
                throw error("pickle ends without STOP (truncated)");
            }
            int position = in.position();
            int op = in.get() & 0xFF;
            switch (op) {
                case 0x80: { // PROTO
                    int v = u8();
                    if (v < 2 || v > 5) {
                        throw error("unsupported pickle protocol " + v);
                    }
                    break;
                }
                case 0x95: // FRAME: a length hint only
                    u64();
                    break;
                case '.': // STOP
                    return pop();
                case '}':
                    push(new PyDict(false));
                    break;
                case ')':
                    push(new PyTuple(List.of()));
                    break;
                case ']':
                    push(new ArrayList<>());
                    break;
                case 0x8F: // EMPTY_SET
                    push(new LinkedHashSet<>());
                    break;
                case '(': // MARK
                    if (markCount == MAX_MARKS) {
                        throw error("too many nested marks");
                    }
                    marks[markCount++] = stack.size();
                    break;
                case 't':
                    push(new PyTuple(Collections.unmodifiableList(Arrays.asList(popMark().toArray()))));
                    break;
                case 0x91: // FROZENSET
                    push(Collections.unmodifiableSet(new LinkedHashSet<>(hashable(popMark()))));
                    break;
                case 0x85:
                case 0x86:
                case 0x87: { // TUPLE1/2/3
                    int n = op - 0x84;
                    Object[] items = new Object[n];
                    for (int i = n - 1; i >= 0; i--) {
                        items[i] = pop();
                    }
                    push(new PyTuple(Collections.unmodifiableList(Arrays.asList(items))));
                    break;
                }
                case 'X':
                    push(utf8(length(u32())));
                    break;
                case 0x8C: // SHORT_BINUNICODE
                    push(utf8(u8()));
                    break;
                case 0x8D: // BINUNICODE8
                    push(utf8(length(u64())));
                    break;
                case 'U': { // SHORT_BINSTRING (protocol 1-2 byte string): latin-1
                    byte[] b = bytes(u8());
                    push(new String(b, StandardCharsets.ISO_8859_1));
                    break;
                }
                case 'C': // SHORT_BINBYTES
                    push(bytes(u8()));
                    break;
                case 'B': // BINBYTES
                    push(bytes(length(u32())));
                    break;
                case 0x8E: // BINBYTES8
                    push(bytes(length(u64())));
                    break;
                case 'K':
                    push((long) u8());
                    break;
                case 'M':
                    push((long) u16());
                    break;
                case 'J':
                    need(4);
                    push((long) in.getInt());
                    break;
                case 0x8A: // LONG1
                    push(long1(u8()));
                    break;
                case 'I': { // INT (text); "00"/"01" are protocol 0's False/True
                    String line = line();
                    if (line.equals("00") || line.equals("01")) {
                        push(line.equals("01"));
                    } else {
                        push(parseInteger(line));
                    }
                    break;
                }
                case 'L': { // LONG (text), with a trailing L
                    String line = line();
                    push(parseInteger(line.endsWith("L") ? line.substring(0, line.length() - 1) : line));
                    break;
                }
                case 'G':
                    need(8);
                    push(Double.longBitsToDouble(Long.reverseBytes(in.getLong())));
                    break;
                case 0x88:
                    push(Boolean.TRUE);
                    break;
                case 0x89:
                    push(Boolean.FALSE);
                    break;
                case 'N':
                    push(null);
                    break;
                case 'c': { // GLOBAL
                    String module = line();
                    String name = line();
                    push(resolver.global(module, name));
                    break;
                }
                case 0x93: { // STACK_GLOBAL
                    Object name = pop();
                    Object module = pop();
                    if (!(module instanceof String) || !(name instanceof String)) {
                        throw error("STACK_GLOBAL needs two strings");
                    }
                    push(resolver.global((String) module, (String) name));
                    break;
                }
                case 'R': { // REDUCE
                    Object args = pop();
                    Object callable = pop();
                    if (!(args instanceof PyTuple)) {
                        throw error("REDUCE arguments are not a tuple");
                    }
                    push(resolver.reduce(callable, (PyTuple) args));
                    break;
                }
                case 'b': { // BUILD
                    Object state = pop();
                    Object target = pop();
                    push(resolver.build(target, state));
                    break;
                }
                case 'Q': // BINPERSID
                    push(resolver.persistentLoad(pop()));
                    break;
                case 'q':
                    memoPut(u8());
                    break;
                case 'r':
                    memoPut(u32());
                    break;
                case 0x94: // MEMOIZE
                    memoPut(memo.size());
                    break;
                case 'h':
                    push(memoGet(u8()));
                    break;
                case 'j':
                    push(memoGet(u32()));
                    break;
                case 's': {
                    Object value = pop();
                    Object key = pop();
                    setItem(top(), key, value);
                    break;
                }
                case 'u': {
                    List<Object> items = popMark();
                    if (items.size() % 2 != 0) {
                        throw error("SETITEMS with an odd number of items");
                    }
                    Object target = top();
                    for (int i = 0; i < items.size(); i += 2) {
                        setItem(target, items.get(i), items.get(i + 1));
                    }
                    break;
                }
                case 'a': {
                    Object value = pop();
                    list(top()).add(value);
                    break;
                }
                case 'e': {
                    List<Object> items = popMark();
                    list(top()).addAll(items);
                    break;
                }
                case 0x90: { // ADDITEMS
                    List<Object> items = popMark();
                    Object target = top();
                    if (!(target instanceof LinkedHashSet)) {
                        throw error("ADDITEMS on a " + typeName(target));
                    }
                    @SuppressWarnings("unchecked")
                    Set<Object> set = (Set<Object>) target;
                    set.addAll(hashable(items));
                    break;
                }
                default:
                    throw error("refused pickle opcode " + describeOpcode(op) + " at offset " + position
                            + " (only data-building opcodes are allowed)");
            }
        }
    }

    private void push(Object value) throws CheckpointException {
        if (stack.size() >= MAX_STACK) {
            throw error("pickle stack too deep");
        }
        stack.add(value);
    }

    private Object pop() throws CheckpointException {
        int floor = markCount > 0 ? marks[markCount - 1] : 0;
        if (stack.size() <= floor) {
            throw error("pickle stack underflow");
        }
        return stack.remove(stack.size() - 1);
    }

    private Object top() throws CheckpointException {
        int floor = markCount > 0 ? marks[markCount - 1] : 0;
        if (stack.size() <= floor) {
            throw error("pickle stack underflow");
        }
        return stack.get(stack.size() - 1);
    }

    private List<Object> popMark() throws CheckpointException {
        if (markCount == 0) {
            throw error("pickle MARK missing");
        }
        int from = marks[--markCount];
        List<Object> tail = stack.subList(from, stack.size());
        List<Object> items = new ArrayList<>(tail);
        tail.clear();
        return items;
    }

    private void memoPut(long index) throws CheckpointException {
        if (memo.size() >= MAX_MEMO && !memo.containsKey(index)) {
            throw error("pickle memo too large");
        }
        memo.put(index, top());
    }

    private Object memoGet(long index) throws CheckpointException {
        if (!memo.containsKey(index)) {
            throw error("pickle memo entry " + index + " is not defined");
        }
        return memo.get(index);
    }

    private void setItem(Object target, Object key, Object value) throws CheckpointException {
        if (!(target instanceof PyDict)) {
            throw error("SETITEM on a " + typeName(target));
        }
        checkHashable(key);
        Map<Object, Object> entries = ((PyDict) target).entries();
        if (entries.containsKey(key)) {
            throw error("duplicate key " + key + " in a pickled dict");
        }
        entries.put(key, value);
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(Object target) throws CheckpointException {
        if (!(target instanceof ArrayList)) {
            throw error("APPEND on a " + typeName(target));
        }
        return (List<Object>) target;
    }

    private List<Object> hashable(List<Object> items) throws CheckpointException {
        for (Object o : items) {
            checkHashable(o);
        }
        return items;
    }

    private void checkHashable(Object key) throws CheckpointException {
        if (key == null || key instanceof String || key instanceof Long || key instanceof BigInteger
                || key instanceof Boolean || key instanceof Double) {
            return;
        }
        if (key instanceof PyTuple) {
            for (Object o : ((PyTuple) key).items()) {
                checkHashable(o);
            }
            return;
        }
        throw error("unsupported dict key or set element: a " + typeName(key));
    }

    static String typeName(Object o) {
        if (o == null) {
            return "None";
        }
        if (o instanceof PyDict) {
            return o.toString();
        }
        if (o instanceof List) {
            return "list";
        }
        return o.getClass().getSimpleName();
    }

    private void need(long n) throws CheckpointException {
        if (n > in.remaining()) {
            throw error("pickle truncated (" + n + " bytes needed at offset " + in.position() + ", "
                    + in.remaining() + " left)");
        }
    }

    private int u8() throws CheckpointException {
        need(1);
        return in.get() & 0xFF;
    }

    private int u16() throws CheckpointException {
        need(2);
        return in.getShort() & 0xFFFF;
    }

    private long u32() throws CheckpointException {
        need(4);
        return in.getInt() & 0xFFFFFFFFL;
    }

    private long u64() throws CheckpointException {
        need(8);
        return in.getLong();
    }

    /** A declared length, checked against the bytes left (so it can be allocated). */
    private int length(long n) throws CheckpointException {
        if (n < 0 || n > in.remaining()) {
            throw error("pickle length " + Long.toUnsignedString(n) + " exceeds the " + in.remaining() + " bytes left");
        }
        return (int) n;
    }

    private byte[] bytes(int n) throws CheckpointException {
        need(n);
        byte[] b = new byte[n];
        in.get(b);
        return b;
    }

    private String utf8(int n) throws CheckpointException {
        byte[] b = bytes(n);
        try {
            // Python writes lone surrogates as "surrogatepass" UTF-8; names in checkpoints never have them.
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw error("pickled string is not valid UTF-8");
        }
    }

    private Object long1(int n) throws CheckpointException {
        byte[] le = bytes(n);
        if (n == 0) {
            return 0L;
        }
        byte[] be = new byte[n];
        for (int i = 0; i < n; i++) {
            be[i] = le[n - 1 - i];
        }
        BigInteger v = new BigInteger(be);
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    private String line() throws CheckpointException {
        StringBuilder sb = new StringBuilder();
        while (true) {
            if (!in.hasRemaining()) {
                throw error("pickle truncated inside a text argument");
            }
            int c = in.get() & 0xFF;
            if (c == '\n') {
                return sb.toString();
            }
            if (c < 0x20 || c > 0x7E || sb.length() >= MAX_LINE) {
                throw error("malformed text argument in pickle");
            }
            sb.append((char) c);
        }
    }

    private Object parseInteger(String text) throws CheckpointException {
        if (!text.matches("[+-]?[0-9]{1,40}")) {
            throw error("malformed integer '" + text + "' in pickle");
        }
        BigInteger v = new BigInteger(text);
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    /** The pickle name of an opcode, for messages. */
    static String opcodeName(int op) {
        switch (op) {
            case 'i': return "INST";
            case 'o': return "OBJ";
            case 0x81: return "NEWOBJ";
            case 0x92: return "NEWOBJ_EX";
            case 0x82: return "EXT1";
            case 0x83: return "EXT2";
            case 0x84: return "EXT4";
            case 'P': return "PERSID";
            case 0x97: return "NEXT_BUFFER";
            case 0x98: return "READONLY_BUFFER";
            case 0x8B: return "LONG4";
            case 'p': return "PUT";
            case 'g': return "GET";
            case 'S': return "STRING";
            case 'T': return "BINSTRING";
            case 'V': return "UNICODE";
            case 'F': return "FLOAT";
            case 'l': return "LIST";
            case 'd': return "DICT";
            case '0': return "POP";
            case '1': return "POP_MARK";
            case '2': return "DUP";
            default: return String.format("0x%02X", op);
        }
    }

    private static String describeOpcode(int op) {
        String name = opcodeName(op);
        return name.startsWith("0x") ? name : name + String.format(" (0x%02X)", op);
    }
}
