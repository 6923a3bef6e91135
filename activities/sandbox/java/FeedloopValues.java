import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.lang.reflect.Array;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Plain values between the Java judge and the program's JVM, by exact type: boxed primitives,
 * String, BigInteger/BigDecimal, arrays of plain values, and java.util Lists, Sets and Maps of
 * plain values. Collections are sent as their content and rebuilt as the standard classes (an
 * ArrayList, Arrays.asList, HashMap, TreeSet, ...), so a program's subclass that overrides
 * equals, hashCode or toString arrives as the plain content it holds. Anything else cannot be
 * sent ({@link NotPlain}). Decoding is the trust boundary: it bounds depth, counts and sizes
 * and turns anything malformed into {@link Malformed}.
 *
 * Frames on the channel: a 4-byte length, then the frame (its first byte says what it is).
 */
final class FeedloopValues {
    private FeedloopValues() {}

    static final int MAX_FRAME = 16 << 20;
    /** Values in one frame at most: what the judge rebuilds stays well inside its heap. */
    private static final long MAX_ITEMS = 4_000_000;
    /**
     * Set in the program's JVM: strings arrive interned, as the tests' literals are in MBXP's
     * single JVM (some reference solutions compare their argument with == to a literal).
     */
    static boolean internStrings;
    private static final int MAX_DEPTH = 200;

    static final class NotPlain extends Exception {
        NotPlain(String message) {
            super(message, null, false, false);
        }
    }

    static final class Malformed extends IOException {
        Malformed(String message) {
            super(message);
        }
    }

    // -- frames ------------------------------------------------------------------------------

    static void sendFrame(DataOutputStream out, byte[] frame) throws IOException {
        out.writeInt(frame.length);
        out.write(frame);
        out.flush();
    }

    /** The next frame, or null at the end of the stream. */
    static byte[] readFrame(DataInputStream in) throws IOException {
        int first = in.read();
        if (first < 0) return null;
        int size = (first << 24) | (in.readUnsignedByte() << 16) | (in.readUnsignedByte() << 8) | in.readUnsignedByte();
        if (size <= 0 || size > MAX_FRAME) throw new Malformed("a frame of " + size + " bytes");
        byte[] frame = new byte[size];
        in.readFully(frame);
        return frame;
    }

    static DataInputStream reader(byte[] frame) {
        return new DataInputStream(new ByteArrayInputStream(frame));
    }

    static final class Writer {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        final DataOutputStream out = new DataOutputStream(bytes);

        Writer(char kind) throws IOException {
            out.writeByte(kind);
        }

        byte[] frame() {
            return bytes.toByteArray();
        }
    }

    static void writeText(DataOutputStream out, String text, int max) throws IOException {
        String s = text == null ? "" : text.length() > max ? text.substring(0, max) : text;
        out.writeInt(s.length());
        out.writeChars(s);
    }

    static String readText(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0 || (long) n * 2 > in.available()) throw new Malformed("a string of " + n + " chars");
        char[] chars = new char[n];
        for (int i = 0; i < n; i++) chars[i] = in.readChar();
        return new String(chars);
    }

    // -- encoding ----------------------------------------------------------------------------

    static void write(DataOutputStream out, Object v) throws IOException, NotPlain {
        write(out, v, 0);
    }

    private static void write(DataOutputStream out, Object v, int depth) throws IOException, NotPlain {
        if (depth > MAX_DEPTH) throw new NotPlain("a value nested deeper than " + MAX_DEPTH);
        if (v == null) {
            out.writeByte('n');
            return;
        }
        Class<?> c = v.getClass();
        if (c == Integer.class) { out.writeByte('I'); out.writeInt((Integer) v); }
        else if (c == Long.class) { out.writeByte('J'); out.writeLong((Long) v); }
        else if (c == Double.class) { out.writeByte('D'); out.writeLong(Double.doubleToRawLongBits((Double) v)); }
        else if (c == Float.class) { out.writeByte('F'); out.writeInt(Float.floatToRawIntBits((Float) v)); }
        else if (c == Boolean.class) { out.writeByte('Z'); out.writeBoolean((Boolean) v); }
        else if (c == Character.class) { out.writeByte('C'); out.writeChar((Character) v); }
        else if (c == Short.class) { out.writeByte('S'); out.writeShort((Short) v); }
        else if (c == Byte.class) { out.writeByte('B'); out.writeByte((Byte) v); }
        else if (c == String.class) { out.writeByte('s'); writeText(out, (String) v, Integer.MAX_VALUE); }
        else if (v instanceof BigInteger) {
            byte[] b = ((BigInteger) v).toByteArray();
            out.writeByte('i');
            out.writeInt(b.length);
            out.write(b);
        } else if (v instanceof BigDecimal) {
            BigDecimal d = (BigDecimal) v;
            byte[] b = d.unscaledValue().toByteArray();
            out.writeByte('d');
            out.writeInt(d.scale());
            out.writeInt(b.length);
            out.write(b);
        } else if (c.isArray()) writeArray(out, v, c, depth);
        else if (v instanceof List) writeItems(out, 'l', listKind(c), ((Collection<?>) v).toArray(), depth);
        else if (v instanceof Set) writeItems(out, 't', setKind(v, c), ((Collection<?>) v).toArray(), depth);
        else if (v instanceof Map) writeMap(out, (Map<?, ?>) v, c, depth);
        else throw new NotPlain("a " + c.getName() + " is not plain data");
    }

    private static void writeArray(DataOutputStream out, Object v, Class<?> c, int depth) throws IOException, NotPlain {
        if (!plainComponent(c)) throw new NotPlain("an array of " + c.getComponentType().getName() + " is not plain data");
        Class<?> component = c.getComponentType();
        int n = Array.getLength(v);
        out.writeByte('[');
        out.writeUTF(c.getName());
        out.writeInt(n);
        if (component == int.class) for (int x : (int[]) v) out.writeInt(x);
        else if (component == long.class) for (long x : (long[]) v) out.writeLong(x);
        else if (component == double.class) for (double x : (double[]) v) out.writeLong(Double.doubleToRawLongBits(x));
        else if (component == float.class) for (float x : (float[]) v) out.writeInt(Float.floatToRawIntBits(x));
        else if (component == boolean.class) for (boolean x : (boolean[]) v) out.writeBoolean(x);
        else if (component == char.class) for (char x : (char[]) v) out.writeChar(x);
        else if (component == short.class) for (short x : (short[]) v) out.writeShort(x);
        else if (component == byte.class) out.write((byte[]) v);
        else for (Object x : (Object[]) v) write(out, x, depth + 1);
    }

    private static void writeItems(DataOutputStream out, char tag, char kind, Object[] items, int depth) throws IOException, NotPlain {
        out.writeByte(tag);
        out.writeByte(kind);
        out.writeInt(items.length);
        for (Object x : items) write(out, x, depth + 1);
    }

    private static void writeMap(DataOutputStream out, Map<?, ?> map, Class<?> c, int depth) throws IOException, NotPlain {
        List<Object> flat = new ArrayList<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            flat.add(e.getKey());
            flat.add(e.getValue());
        }
        char kind = c == HashMap.class ? 'h' : c == TreeMap.class && ((SortedMap<?, ?>) map).comparator() == null ? 't'
                : unmodifiable(c) ? 'u' : 'l';
        out.writeByte('m');
        out.writeByte(kind);
        out.writeInt(flat.size() / 2);
        for (Object x : flat) write(out, x, depth + 1);
    }

    private static char listKind(Class<?> c) {
        String name = c.getName();
        if (c == LinkedList.class) return 'k';
        if ("java.util.Arrays$ArrayList".equals(name)) return 'f';
        if (unmodifiable(c)) return 'u';
        return 'a';
    }

    private static char setKind(Object set, Class<?> c) {
        if (c == HashSet.class) return 'h';
        if (c == TreeSet.class && ((SortedSet<?>) set).comparator() == null) return 't';
        if (unmodifiable(c)) return 'u';
        return 'l';
    }

    private static boolean unmodifiable(Class<?> c) {
        String name = c.getName();
        return name.startsWith("java.util.ImmutableCollections$") || name.startsWith("java.util.Collections$Unmodifiable")
                || name.startsWith("java.util.Collections$Empty") || name.startsWith("java.util.Collections$Singleton");
    }

    private static final Set<String> PLAIN_CLASSES = Set.of(
            "java.lang.Object", "java.lang.Integer", "java.lang.Long", "java.lang.Double", "java.lang.Float",
            "java.lang.Boolean", "java.lang.Character", "java.lang.Short", "java.lang.Byte", "java.lang.String",
            "java.lang.Number", "java.lang.CharSequence", "java.lang.Comparable", "java.math.BigInteger", "java.math.BigDecimal",
            "java.util.List", "java.util.ArrayList", "java.util.LinkedList", "java.util.Collection", "java.util.Set",
            "java.util.HashSet", "java.util.LinkedHashSet", "java.util.TreeSet", "java.util.Map", "java.util.HashMap",
            "java.util.LinkedHashMap", "java.util.TreeMap");

    private static boolean plainComponent(Class<?> arrayClass) {
        Class<?> c = arrayClass;
        while (c.isArray()) c = c.getComponentType();
        return c.isPrimitive() || PLAIN_CLASSES.contains(c.getName());
    }

    // -- decoding ----------------------------------------------------------------------------

    private static final class Budget {
        long items;

        void take(long n, DataInputStream in) throws IOException {
            items += n;
            // every item takes at least one byte of the frame
            if (n < 0 || n > in.available() || items > MAX_ITEMS) throw new Malformed("a count of " + n);
        }
    }

    static Object read(DataInputStream in) throws IOException {
        return read(in, new Budget(), 0);
    }

    private static Object read(DataInputStream in, Budget budget, int depth) throws IOException {
        if (depth > MAX_DEPTH) throw new Malformed("nested deeper than " + MAX_DEPTH);
        int tag = in.readUnsignedByte();
        switch (tag) {
            case 'n': return null;
            case 'I': return in.readInt();
            case 'J': return in.readLong();
            case 'D': return Double.longBitsToDouble(in.readLong());
            case 'F': return Float.intBitsToFloat(in.readInt());
            case 'Z': return in.readBoolean();
            case 'C': return in.readChar();
            case 'S': return in.readShort();
            case 'B': return in.readByte();
            case 's': return internStrings ? readText(in).intern() : readText(in);
            case 'i': return new BigInteger(readBytes(in, true));
            case 'd': {
                int scale = in.readInt();
                return new BigDecimal(new BigInteger(readBytes(in, true)), scale);
            }
            case '[': return readArray(in, budget, depth);
            case 'l': {
                int kind = in.readUnsignedByte();
                Object[] items = readItems(in, in.readInt(), budget, depth);
                switch (kind) {
                    case 'a': return new ArrayList<>(Arrays.asList(items));
                    case 'k': return new LinkedList<>(Arrays.asList(items));
                    case 'f': return Arrays.asList(items);
                    case 'u': return Collections.unmodifiableList(new ArrayList<>(Arrays.asList(items)));
                    default: throw new Malformed("a list of kind " + kind);
                }
            }
            case 't': {
                int kind = in.readUnsignedByte();
                List<Object> items = Arrays.asList(readItems(in, in.readInt(), budget, depth));
                try {
                    switch (kind) {
                        case 'h': return new HashSet<>(items);
                        case 'l': return new LinkedHashSet<>(items);
                        case 't': return new TreeSet<>(items);
                        case 'u': return Collections.unmodifiableSet(new LinkedHashSet<>(items));
                        default: throw new Malformed("a set of kind " + kind);
                    }
                } catch (ClassCastException | NullPointerException e) {
                    throw new Malformed("a sorted set of values that do not compare");
                }
            }
            case 'm': return readMap(in, budget, depth);
            default: throw new Malformed("an unknown value tag " + tag);
        }
    }

    private static byte[] readBytes(DataInputStream in, boolean nonEmpty) throws IOException {
        int n = in.readInt();
        if (n < (nonEmpty ? 1 : 0) || n > in.available()) throw new Malformed("a byte string of " + n);
        byte[] b = new byte[n];
        in.readFully(b);
        return b;
    }

    private static Object[] readItems(DataInputStream in, int n, Budget budget, int depth) throws IOException {
        budget.take(n, in);
        Object[] items = new Object[n];
        for (int i = 0; i < n; i++) items[i] = read(in, budget, depth + 1);
        return items;
    }

    private static Object readMap(DataInputStream in, Budget budget, int depth) throws IOException {
        int kind = in.readUnsignedByte();
        int n = in.readInt();
        budget.take(n, in);
        Map<Object, Object> map;
        switch (kind) {
            case 'h': map = new HashMap<>(); break;
            case 'l': case 'u': map = new LinkedHashMap<>(); break;
            case 't': map = new TreeMap<>(); break;
            default: throw new Malformed("a map of kind " + kind);
        }
        try {
            for (int i = 0; i < n; i++) {
                Object key = read(in, budget, depth + 1);
                map.put(key, read(in, budget, depth + 1));
            }
        } catch (ClassCastException | NullPointerException e) {
            throw new Malformed("a sorted map of keys that do not compare");
        }
        return kind == 'u' ? Collections.unmodifiableMap(map) : map;
    }

    private static Object readArray(DataInputStream in, Budget budget, int depth) throws IOException {
        String name = in.readUTF();
        Class<?> c;
        try {
            c = Class.forName(name, false, null);
        } catch (ClassNotFoundException e) {
            throw new Malformed("an array of an unknown type " + name);
        }
        if (!c.isArray() || !plainComponent(c)) throw new Malformed("an array type that is not plain: " + name);
        Class<?> component = c.getComponentType();
        int n = in.readInt();
        budget.take(n, in);
        Object array = Array.newInstance(component, n);
        for (int i = 0; i < n; i++) {
            if (component == int.class) ((int[]) array)[i] = in.readInt();
            else if (component == long.class) ((long[]) array)[i] = in.readLong();
            else if (component == double.class) ((double[]) array)[i] = Double.longBitsToDouble(in.readLong());
            else if (component == float.class) ((float[]) array)[i] = Float.intBitsToFloat(in.readInt());
            else if (component == boolean.class) ((boolean[]) array)[i] = in.readBoolean();
            else if (component == char.class) ((char[]) array)[i] = in.readChar();
            else if (component == short.class) ((short[]) array)[i] = in.readShort();
            else if (component == byte.class) ((byte[]) array)[i] = in.readByte();
            else {
                Object x = read(in, budget, depth + 1);
                if (x != null && !component.isInstance(x)) throw new Malformed("a " + x.getClass().getName() + " in an array of " + component.getName());
                ((Object[]) array)[i] = x;
            }
        }
        return array;
    }
}
