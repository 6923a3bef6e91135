import com.sun.source.util.JavacTask;
import com.sun.source.util.TaskEvent;
import com.sun.source.util.TaskListener;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.lang.model.element.Element;
import javax.lang.model.element.ElementKind;
import javax.lang.model.element.ExecutableElement;
import javax.lang.model.element.Modifier;
import javax.lang.model.element.TypeElement;
import javax.lang.model.element.VariableElement;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticListener;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;

/**
 * A warm javac: reads "SOURCE_FILE\tOUTPUT_DIR[\tanalyze]" lines on stdin, compiles each with
 * javax.tools, and answers one JSON line {ok, ms, diagnostics}. Annotation processing is off,
 * so nothing in the compiled source ever runs here.
 *
 * With "analyze" the compilation runs with -Xlint:all and the reply adds, bounded, every
 * diagnostic with its javac code and line ("items"), and the methods the source declares with
 * their resolved types ("methods", read from javac's own model after attribution: no class is
 * loaded, no code of the program runs).
 */
public final class FeedloopCompileServer {
    private FeedloopCompileServer() {}

    private static final int MAX_TEXT = 6000;
    private static final int MAX_ITEMS = 60;
    private static final int MAX_ITEM_MESSAGE = 400;
    private static final int MAX_METHODS = 200;

    public static void main(String[] args) throws Exception {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
        StandardJavaFileManager files = javac.getStandardFileManager(null, null, StandardCharsets.UTF_8);
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            String[] request = line.split("\t", 3);
            boolean analyze = request.length > 2 && "analyze".equals(request[2]);
            StringWriter diagnostics = new StringWriter();
            StringBuilder items = new StringBuilder();
            StringBuilder methods = new StringBuilder();
            int[] counts = new int[2];
            long started = System.nanoTime();
            boolean ok;
            try {
                Iterable<? extends JavaFileObject> units = files.getJavaFileObjects(new File(request[0]));
                List<String> options = analyze
                        ? List.of("-proc:none", "-encoding", "UTF-8", "-Xlint:all", "-Xmaxwarns", "1000", "-d", request[1])
                        : List.of("-proc:none", "-encoding", "UTF-8", "-nowarn", "-Xlint:none", "-d", request[1]);
                // With a listener javac prints nothing itself: the text is written here, as javac would.
                DiagnosticListener<JavaFileObject> listener = analyze ? d -> item(items, diagnostics, counts, d) : null;
                JavaCompiler.CompilationTask task = javac.getTask(diagnostics, files, listener, options, null, units);
                if (analyze) ((JavacTask) task).addTaskListener(new MethodCollector(methods, counts));
                ok = task.call();
            } catch (Throwable t) {
                ok = false;
                diagnostics.write("compiler failure: " + t);
            }
            long ms = (System.nanoTime() - started) / 1_000_000;
            String text = diagnostics.toString();
            if (text.length() > MAX_TEXT) text = text.substring(0, MAX_TEXT);
            StringBuilder reply = new StringBuilder("{\"ok\":").append(ok).append(",\"ms\":").append(ms).append(',');
            FeedloopLauncher.field(reply, "diagnostics", text);
            if (analyze) {
                reply.append(",\"items\":[").append(items).append("],\"methods\":[").append(methods).append(']');
            }
            out.println(reply.append('}'));
            out.flush();
        }
    }

    private static void item(StringBuilder items, StringWriter text, int[] counts, Diagnostic<? extends JavaFileObject> d) {
        String message = d.getMessage(Locale.ROOT);
        if (text.getBuffer().length() < MAX_TEXT) {
            String file = d.getSource() == null ? "javac" : new File(d.getSource().getName()).getName();
            String kind = d.getKind() == Diagnostic.Kind.ERROR ? "error" : d.getKind() == Diagnostic.Kind.NOTE ? "note" : "warning";
            text.write(file + ":" + d.getLineNumber() + ": " + kind + ": " + message + "\n");
        }
        if (counts[0]++ >= MAX_ITEMS) return;
        if (items.length() > 0) items.append(',');
        items.append('{');
        FeedloopLauncher.field(items, "kind", d.getKind().name()).append(',');
        FeedloopLauncher.field(items, "code", String.valueOf(d.getCode())).append(',');
        items.append("\"line\":").append(d.getLineNumber()).append(",\"column\":").append(d.getColumnNumber()).append(',');
        if (message.length() > MAX_ITEM_MESSAGE) message = message.substring(0, MAX_ITEM_MESSAGE);
        FeedloopLauncher.field(items, "message", message).append('}');
    }

    /** Records the methods of each top-level class once javac has attributed it. */
    private static final class MethodCollector implements TaskListener {
        private final StringBuilder methods;
        private final int[] counts;

        MethodCollector(StringBuilder methods, int[] counts) {
            this.methods = methods;
            this.counts = counts;
        }

        @Override
        public void finished(TaskEvent e) {
            if (e.getKind() == TaskEvent.Kind.ANALYZE && e.getTypeElement() != null) collect(e.getTypeElement());
        }

        private void collect(TypeElement type) {
            for (Element member : type.getEnclosedElements()) {
                if (member.getKind() == ElementKind.METHOD && counts[1]++ < MAX_METHODS) {
                    ExecutableElement method = (ExecutableElement) member;
                    if (methods.length() > 0) methods.append(',');
                    methods.append('{');
                    FeedloopLauncher.field(methods, "class", type.getQualifiedName().toString()).append(',');
                    FeedloopLauncher.field(methods, "name", method.getSimpleName().toString()).append(',');
                    FeedloopLauncher.field(methods, "returns", method.getReturnType().toString()).append(',');
                    methods.append("\"static\":").append(method.getModifiers().contains(Modifier.STATIC)).append(',');
                    methods.append("\"params\":[");
                    List<String> params = new ArrayList<>();
                    for (VariableElement p : method.getParameters()) params.add(p.asType().toString());
                    for (int i = 0; i < params.size(); i++) {
                        if (i > 0) methods.append(',');
                        methods.append('"');
                        appendEscaped(methods, params.get(i));
                        methods.append('"');
                    }
                    methods.append("]}");
                } else if (member instanceof TypeElement) {
                    collect((TypeElement) member);
                }
            }
        }
    }

    private static void appendEscaped(StringBuilder json, String value) {
        StringBuilder one = FeedloopLauncher.field(new StringBuilder(), "v", value);
        // field() wrote "v":"<escaped>": keep only the escaped value
        json.append(one, 5, one.length() - 1);
    }
}
