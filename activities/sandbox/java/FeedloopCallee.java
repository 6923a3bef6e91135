import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;

/**
 * The program's JVM in a judged run: loads the program's classes only, and answers the judge's
 * "call CLASS.METHOD(args)" with the plain value it returned (FeedloopValues) or the exception
 * it threw. It never sees the tests: they run in the judge's JVM, under another uid.
 *
 * Channel: fd 3 answers out, fd 4 requests in. "started" goes out before any program class is
 * loaded; whatever the program does afterwards (exit, halt, write its own frames, threads) it
 * can only answer the calls, and cannot learn what the tests expect.
 */
public final class FeedloopCallee {
    private FeedloopCallee() {}

    private static final int MAX_TEXT = 1500;

    public static void main(String[] args) {
        DataOutputStream out;
        DataInputStream in;
        FeedloopValues.internStrings = true;
        try {
            out = new DataOutputStream(new FileOutputStream("/proc/self/fd/3"));
            in = new DataInputStream(new BufferedInputStream(new FileInputStream("/proc/self/fd/4")));
            FeedloopValues.sendFrame(out, new FeedloopValues.Writer('S').frame());
        } catch (IOException e) {
            Runtime.getRuntime().halt(121);
            return;
        }
        try {
            while (true) {
                byte[] frame = FeedloopValues.readFrame(in);
                if (frame == null || frame[0] == 'D') break;
                FeedloopValues.sendFrame(out, answer(FeedloopValues.reader(frame)));
            }
        } catch (IOException e) {
            // the judge is gone or wrote garbage: nothing more to answer
        }
        System.out.flush();
        System.err.flush();
        Runtime.getRuntime().halt(0);
    }

    private static byte[] answer(DataInputStream request) throws IOException {
        if (request.readUnsignedByte() != 'C') throw new IOException("not a call");
        String className = request.readUTF();
        String methodName = request.readUTF();
        String[] params = new String[request.readInt()];
        for (int i = 0; i < params.length; i++) params[i] = request.readUTF();
        Object[] args = new Object[params.length];
        for (int i = 0; i < args.length; i++) args[i] = FeedloopValues.read(request);
        Object result;
        try {
            Method method = find(Class.forName(className, true, FeedloopCallee.class.getClassLoader()), methodName, params);
            method.setAccessible(true);
            result = method.invoke(null, args);
        } catch (InvocationTargetException e) {
            return raised(e.getCause());
        } catch (ExceptionInInitializerError e) {
            return raised(e.getCause() != null ? e.getCause() : e);
        } catch (Throwable t) {
            return raised(t);
        }
        FeedloopValues.Writer reply = new FeedloopValues.Writer('R');
        try {
            FeedloopValues.write(reply.out, result);
        } catch (FeedloopValues.NotPlain e) {
            FeedloopValues.Writer notPlain = new FeedloopValues.Writer('X');
            FeedloopValues.writeText(notPlain.out, methodName + " returned " + e.getMessage(), MAX_TEXT);
            return notPlain.frame();
        } catch (Throwable t) {
            return raised(t);  // a hostile collection threw while its content was read
        }
        return reply.frame();
    }

    private static Method find(Class<?> c, String name, String[] params) throws NoSuchMethodException {
        for (Method m : c.getDeclaredMethods()) {
            if (!m.getName().equals(name) || !Modifier.isStatic(m.getModifiers()) || m.getParameterCount() != params.length) continue;
            Class<?>[] types = m.getParameterTypes();
            boolean same = true;
            for (int i = 0; i < types.length && same; i++) same = params[i].equals(types[i].getCanonicalName());
            if (same) return m;
        }
        throw new NoSuchMethodException(c.getName() + "." + name);
    }

    private static byte[] raised(Throwable t) throws IOException {
        try {
            t.printStackTrace();
        } catch (Throwable ignored) {
            // out of memory while printing: the frame below still says what happened
        }
        FeedloopValues.Writer reply = new FeedloopValues.Writer('E');
        String text;
        try {
            StackTraceElement[] trace = t.getStackTrace();
            text = t + (trace.length > 0 ? " at " + trace[0] : "");
        } catch (Throwable e) {
            text = t.getClass().getName();
        }
        FeedloopValues.writeText(reply.out, t.getClass().getName(), 300);
        FeedloopValues.writeText(reply.out, text, MAX_TEXT);
        reply.out.writeBoolean(t instanceof OutOfMemoryError);
        return reply.frame();
    }
}
