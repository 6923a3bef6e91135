import java.io.BufferedReader;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;

/**
 * Runs MBXP's {@code Main.main} inside the sandbox and reports the verdict to fd 3 as JSON lines
 * stamped with a per-run nonce read from stdin (kept in a local, out of reach of reflection).
 * "passed" is written only after main returned: System.exit or halt in the program never yields it.
 * A test failure is MBXP's convention: a plain java.lang.Exception thrown by Main.main itself.
 */
public final class FeedloopLauncher {
    private FeedloopLauncher() {}

    public static void main(String[] args) {
        String nonce;
        try {
            nonce = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        } catch (IOException e) {
            nonce = null;
        }
        FileOutputStream report;
        try {
            report = new FileOutputStream("/proc/self/fd/3");
        } catch (IOException e) {
            report = null;
        }
        if (nonce == null || report == null) {
            Runtime.getRuntime().halt(121);
            return;
        }
        send(report, nonce, "started", null, null);
        String status;
        Throwable failure = null;
        try {
            Class<?> main = Class.forName("Main", true, FeedloopLauncher.class.getClassLoader());
            Method entry = main.getDeclaredMethod("main", String[].class);
            entry.setAccessible(true);
            entry.invoke(null, (Object) new String[0]);
            status = "passed";
        } catch (InvocationTargetException e) {
            failure = e.getCause();
            status = classify(failure);
        } catch (ClassNotFoundException | NoSuchMethodException e) {
            failure = e;
            status = "runtime_error";
        } catch (Throwable t) {
            failure = t instanceof ExceptionInInitializerError && t.getCause() != null ? t.getCause() : t;
            status = failure instanceof OutOfMemoryError ? "memory_limit" : "runtime_error";
        }
        System.out.flush();
        if (failure != null) {
            try {
                failure.printStackTrace();
            } catch (Throwable ignored) {
                // out of memory while printing: the report below still says what happened
            }
        }
        System.err.flush();
        if (failure == null) {
            send(report, nonce, status, null, "all tests passed");
        } else {
            send(report, nonce, status, failure.getClass().getName(), describe(failure));
        }
        Runtime.getRuntime().halt("passed".equals(status) ? 0 : 1);
    }

    private static String classify(Throwable t) {
        if (t instanceof OutOfMemoryError) return "memory_limit";
        StackTraceElement[] trace = t.getStackTrace();
        boolean thrownByTests = t.getClass() == Exception.class && trace.length > 0
                && "Main".equals(trace[0].getClassName()) && "main".equals(trace[0].getMethodName());
        return thrownByTests ? "failed" : "runtime_error";
    }

    private static String describe(Throwable t) {
        StackTraceElement[] trace = t.getStackTrace();
        String where = trace.length > 0 ? " at " + trace[0] : "";
        return t + where;
    }

    private static void send(FileOutputStream out, String nonce, String status, String exception, String detail) {
        StringBuilder json = new StringBuilder(256).append('{');
        field(json, "nonce", nonce).append(',');
        field(json, "status", status);
        json.append(",\"pid\":").append(ProcessHandle.current().pid());
        if (exception != null) field(json.append(','), "exception", exception);
        if (detail != null) field(json.append(','), "detail", detail.length() > 1500 ? detail.substring(0, 1500) : detail);
        json.append("}\n");
        try {
            out.write(json.toString().getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (IOException ignored) {
            // the supervisor treats a missing verdict as the program's failure
        }
    }

    static StringBuilder field(StringBuilder json, String name, String value) {
        json.append('"').append(name).append("\":\"");
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"': json.append("\\\""); break;
                case '\\': json.append("\\\\"); break;
                case '\n': json.append("\\n"); break;
                case '\r': json.append("\\r"); break;
                case '\t': json.append("\\t"); break;
                default:
                    if (c < 0x20) json.append(String.format("\\u%04x", (int) c));
                    else json.append(c);
            }
        }
        return json.append('"');
    }
}
