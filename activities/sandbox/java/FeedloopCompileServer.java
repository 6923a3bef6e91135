import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;

/**
 * A warm javac: reads "SOURCE_FILE\tOUTPUT_DIR" lines on stdin, compiles each with
 * javax.tools, and answers one JSON line {ok, ms, diagnostics}. Annotation processing is off,
 * so nothing in the compiled source ever runs here.
 */
public final class FeedloopCompileServer {
    private FeedloopCompileServer() {}

    public static void main(String[] args) throws Exception {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
        StandardJavaFileManager files = javac.getStandardFileManager(null, null, StandardCharsets.UTF_8);
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            String[] request = line.split("\t", 2);
            StringWriter diagnostics = new StringWriter();
            long started = System.nanoTime();
            boolean ok;
            try {
                Iterable<? extends JavaFileObject> units = files.getJavaFileObjects(new File(request[0]));
                List<String> options = List.of("-proc:none", "-encoding", "UTF-8", "-nowarn", "-Xlint:none", "-d", request[1]);
                ok = javac.getTask(diagnostics, files, null, options, null, units).call();
            } catch (Throwable t) {
                ok = false;
                diagnostics.write("compiler failure: " + t);
            }
            long ms = (System.nanoTime() - started) / 1_000_000;
            String text = diagnostics.toString();
            if (text.length() > 6000) text = text.substring(0, 6000);
            StringBuilder reply = new StringBuilder("{\"ok\":").append(ok).append(",\"ms\":").append(ms).append(',');
            FeedloopLauncher.field(reply, "diagnostics", text).append('}');
            out.println(reply);
            out.flush();
        }
    }
}
