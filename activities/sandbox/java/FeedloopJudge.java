import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.File;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.FileDescriptor;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;

/**
 * The Java judge: a warm JVM under a uid of its own that runs MBXP's {@code Main} of each run.
 * Main is compiled against a stub of the program's classes (same names, same static methods)
 * whose bodies call {@link #call}: the call goes to the program's JVM, which answers with a
 * plain value. So {@code compare} and {@code equals} are the judge's own on values it rebuilt,
 * the expected values and the tests never leave this JVM, and the program can pass only by
 * answering each call with the right value.
 *
 * Reads "ID\tCLASSES_DIR\tTO_PROGRAM_FIFO\tFROM_PROGRAM_FIFO" lines on stdin; answers
 * {"op":"opened"} once it holds both ends of the run's channel, then {"op":"verdict",...}.
 * The verdict follows MBXP: a plain java.lang.Exception thrown by Main.main is "failed".
 */
public final class FeedloopJudge {
    private FeedloopJudge() {}

    private static DataInputStream fromProgram;
    private static DataOutputStream toProgram;

    /** The program's process ended or broke the channel. */
    static final class ProgramGone extends RuntimeException {
        ProgramGone(String message) {
            super(message, null, false, false);
        }
    }

    /** The program threw in a call (its class name and text come from the program). */
    static final class ProgramRaised extends RuntimeException {
        final boolean outOfMemory;

        ProgramRaised(String message, boolean outOfMemory) {
            super(message, null, false, false);
            this.outOfMemory = outOfMemory;
        }
    }

    /** The program answered with something that is not plain data. */
    static final class ProgramNotPlain extends RuntimeException {
        ProgramNotPlain(String message) {
            super(message, null, false, false);
        }
    }

    /** What the stubs call: CLASS.METHOD with the erased parameter types, in the program's JVM. */
    public static Object call(String className, String method, String[] params, Object[] args) {
        byte[] reply;
        try {
            FeedloopValues.Writer request = new FeedloopValues.Writer('C');
            request.out.writeUTF(className);
            request.out.writeUTF(method);
            request.out.writeInt(params.length);
            for (String p : params) request.out.writeUTF(p);
            for (Object a : args) FeedloopValues.write(request.out, a);
            FeedloopValues.sendFrame(toProgram, request.frame());
            reply = FeedloopValues.readFrame(fromProgram);
        } catch (FeedloopValues.NotPlain e) {
            throw new IllegalStateException("the tests pass a value that is not plain data: " + e.getMessage());
        } catch (IOException e) {
            throw new ProgramGone("the program's process broke its channel (" + e.getMessage() + ")");
        }
        if (reply == null) throw new ProgramGone("the program's process closed its channel");
        return answer(className + "." + method, reply);
    }

    /** The value of one reply; whatever is wrong with it is the program's (never the judge's) failure. */
    private static Object answer(String what, byte[] reply) {
        try {
            DataInputStream in = FeedloopValues.reader(reply);
            int kind = in.readUnsignedByte();
            if (kind == 'R') {
                Object value = FeedloopValues.read(in);
                if (in.available() != 0) throw new FeedloopValues.Malformed("trailing bytes");
                return value;
            }
            if (kind == 'E') {
                String type = FeedloopValues.readText(in);
                String text = FeedloopValues.readText(in);
                boolean oom = in.readBoolean();
                throw new ProgramRaised(what + " threw " + text, oom || type.equals("java.lang.OutOfMemoryError"));
            }
            if (kind == 'X') throw new ProgramNotPlain(FeedloopValues.readText(in));
            throw new FeedloopValues.Malformed("an unknown answer " + kind);
        } catch (IOException | IllegalArgumentException | ClassCastException | NullPointerException e) {
            throw new ProgramGone("the program's process sent garbage on its channel (" + e.getMessage() + ")");
        } catch (OutOfMemoryError | StackOverflowError e) {
            throw new ProgramGone("the program's answer is too large to rebuild (" + e + ")");
        }
    }

    public static void main(String[] args) throws IOException {
        PrintStream protocol = new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);
        PrintStream nowhere = new PrintStream(OutputStream.nullOutputStream());
        System.setOut(nowhere);  // the tests' own prints must not reach the protocol
        BufferedReader lines = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line = lines.readLine(); line != null; line = lines.readLine()) {
            String[] request = line.split("\t", 4);
            String id = request[0];
            String status;
            String detail;
            String evidence = null;
            try (FileOutputStream ask = new FileOutputStream(request[2]); FileInputStream answers = new FileInputStream(request[3])) {
                toProgram = new DataOutputStream(ask);
                fromProgram = new DataInputStream(new BufferedInputStream(answers));
                protocol.print("{\"op\":\"opened\",\"id\":" + Long.parseLong(id) + "}\n");
                protocol.flush();
                String[] verdict = judge(new File(request[1]));
                status = verdict[0];
                detail = verdict[1];
                evidence = verdict.length > 2 ? verdict[2] : null;
                try {
                    FeedloopValues.sendFrame(toProgram, new FeedloopValues.Writer('D').frame());
                } catch (IOException ignored) {
                    // the program is gone already
                }
            } catch (Throwable t) {
                status = "judge_failed";
                detail = "the Java judge failed: " + t;
            } finally {
                toProgram = null;
                fromProgram = null;
            }
            StringBuilder reply = new StringBuilder("{\"op\":\"verdict\",\"id\":").append(Long.parseLong(id)).append(',');
            FeedloopLauncher.field(reply, "status", status).append(',');
            FeedloopLauncher.field(reply, "detail", detail.length() > 1500 ? detail.substring(0, 1500) : detail);
            if (evidence != null) FeedloopLauncher.field(reply.append(','), "evidence", evidence.length() > 2000 ? evidence.substring(0, 2000) : evidence);
            protocol.print(reply.append("}\n"));
            protocol.flush();
        }
    }

    /** {status, detail} of one run. */
    private static String[] judge(File classes) throws IOException {
        try {
            byte[] first = FeedloopValues.readFrame(fromProgram);
            if (first == null || first.length != 1 || first[0] != 'S') {
                return new String[] {"not_started", "the program's JVM did not start properly"};
            }
        } catch (IOException e) {
            return new String[] {"not_started", "the program's JVM did not start properly (" + e.getMessage() + ")"};
        }
        try (URLClassLoader loader = new URLClassLoader(new URL[] {classes.toURI().toURL()}, FeedloopJudge.class.getClassLoader())) {
            Method entry;
            try {
                entry = loader.loadClass("Main").getDeclaredMethod("main", String[].class);
                entry.setAccessible(true);
            } catch (ReflectiveOperationException | LinkageError e) {
                return new String[] {"judge_failed", "the tests' Main could not be loaded: " + e};
            }
            try {
                entry.invoke(null, (Object) new String[0]);
                return new String[] {"passed", "all tests passed"};
            } catch (InvocationTargetException e) {
                return classify(e.getCause());
            } catch (ExceptionInInitializerError e) {
                return classify(e.getCause() != null ? e.getCause() : e);
            } catch (IllegalAccessException e) {
                return new String[] {"judge_failed", "the tests' Main could not be run: " + e};
            }
        }
    }

    private static String[] classify(Throwable t) {
        if (t instanceof ProgramGone) return new String[] {"program_gone", t.getMessage()};
        if (t instanceof ProgramRaised) return new String[] {((ProgramRaised) t).outOfMemory ? "memory_limit" : "runtime_error", t.getMessage()};
        if (t instanceof ProgramNotPlain) return new String[] {"runtime_error", "the program's answer is not plain data: " + t.getMessage()};
        StackTraceElement[] trace = t.getStackTrace();
        String where = trace.length > 0 ? " at " + trace[0] : "";
        boolean thrownByTests = t.getClass() == Exception.class && trace.length > 0
                && "Main".equals(trace[0].getClassName()) && "main".equals(trace[0].getMethodName());
        if (thrownByTests) return new String[] {"failed", t + where, trace(t)};
        if (t instanceof OutOfMemoryError) return new String[] {"judge_failed", "the judge ran out of memory: " + t};
        // e.g. a ClassCastException in a stub: the program answered with a value of another type
        return new String[] {"runtime_error", t + where, trace(t)};
    }

    /** The tests' stack trace, as the in-process run prints it (the server appends it to stderr). */
    private static String trace(Throwable t) {
        StringBuilder text = new StringBuilder(t.toString());
        for (StackTraceElement e : t.getStackTrace()) {
            if (e.getClassName().startsWith("java.") || e.getClassName().startsWith("jdk.") || e.getClassName().startsWith("FeedloopJudge")) continue;
            text.append("\n\tat ").append(e);
            if (text.length() > 1500) break;
        }
        return text.toString();
    }
}
