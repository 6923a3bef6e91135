import com.sun.source.tree.CompilationUnitTree;
import com.sun.source.tree.ImportTree;
import com.sun.source.util.TaskEvent;
import com.sun.source.util.TaskListener;
import com.sun.tools.javac.api.BasicJavacTask;
import com.sun.tools.javac.api.JavacTaskPool;
import com.sun.tools.javac.util.JCDiagnostic;
import com.sun.tools.javac.util.Log;
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
import javax.lang.model.util.Elements;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticListener;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.StandardLocation;
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
 *
 * Analysing compilations reuse javac's context through JavacTaskPool (as JShell does): the
 * JDK's symbol tables are read once, not per program, which makes a warm compilation 2-3x
 * faster. The pool drops each compilation's own classes before the next (a class one program
 * declares is not visible to the next: test/sandbox/hostile-java.test.ts checks it). Contexts
 * are reused only between identical options, so the output directory is set on the file
 * manager instead of -d. The run path keeps a fresh context per program: JDK 17's pool fails
 * on a reused context when a task has no diagnostic listener, and without one javac prints
 * its diagnostics exactly as on the command line (simple type names), which run results keep.
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
        JavacTaskPool pool = new JavacTaskPool(2);
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
                if (analyze) {
                    files.setLocation(StandardLocation.CLASS_OUTPUT, List.of(new File(request[1])));
                    List<String> options = List.of("-proc:none", "-encoding", "UTF-8", "-Xlint:all", "-Xmaxwarns", "1000");
                    Collector collector = new Collector(items, diagnostics, counts);
                    // The pool clears a context's task listeners when the task ends: none carries over.
                    ok = pool.getTask(null, files, collector, options, null, units, task -> {
                        collector.log = Log.instance(((BasicJavacTask) task).getContext());
                        task.addTaskListener(new MethodCollector(methods, counts, task.getElements()));
                        return task.call();
                    });
                    collector.footer();
                } else {
                    files.setLocation(StandardLocation.CLASS_OUTPUT, null);
                    List<String> options = List.of("-proc:none", "-encoding", "UTF-8", "-nowarn", "-Xlint:none", "-d", request[1]);
                    ok = javac.getTask(diagnostics, files, null, options, null, units).call();
                }
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

    /** Writes each diagnostic as javac prints it and records it as an item. */
    private static final class Collector implements DiagnosticListener<JavaFileObject> {
        private final StringBuilder items;
        private final StringWriter text;
        private final int[] counts;
        private int errors;
        private int warnings;
        Log log;

        Collector(StringBuilder items, StringWriter text, int[] counts) {
            this.items = items;
            this.text = text;
            this.counts = counts;
        }

        @Override
        public void report(Diagnostic<? extends JavaFileObject> d) {
            if (d.getKind() == Diagnostic.Kind.ERROR) errors++;
            else if (d.getKind() == Diagnostic.Kind.WARNING || d.getKind() == Diagnostic.Kind.MANDATORY_WARNING) warnings++;
            boolean javacStyle = log != null && d instanceof JCDiagnostic;
            if (text.getBuffer().length() < MAX_TEXT) {
                text.write(javacStyle ? log.getDiagnosticFormatter().format((JCDiagnostic) d, Locale.getDefault()) : d.toString());
                text.write("\n");
            }
            if (counts[0]++ >= MAX_ITEMS) return;
            String message = javacStyle ? log.getDiagnosticFormatter().formatMessage((JCDiagnostic) d, Locale.getDefault()) : d.getMessage(Locale.ROOT);
            if (message.length() > MAX_ITEM_MESSAGE) message = message.substring(0, MAX_ITEM_MESSAGE);
            if (items.length() > 0) items.append(',');
            items.append('{');
            FeedloopLauncher.field(items, "kind", d.getKind().name()).append(',');
            FeedloopLauncher.field(items, "code", String.valueOf(d.getCode())).append(',');
            items.append("\"line\":").append(d.getLineNumber()).append(",\"column\":").append(d.getColumnNumber()).append(',');
            FeedloopLauncher.field(items, "message", message).append('}');
        }

        /** javac's closing count lines ("1 error", "2 warnings"). */
        void footer() {
            if (errors > 0) text.write(errors + (errors == 1 ? " error\n" : " errors\n"));
            if (warnings > 0) text.write(warnings + (warnings == 1 ? " warning\n" : " warnings\n"));
        }
    }

    /**
     * Records the methods of each top-level class once javac has attributed it, and whether the
     * class has the simple name of a JDK class its file imports on demand (or of java.lang):
     * such a class shadows the JDK's for code in the same file, e.g. a program's own Arrays.
     */
    private static final class MethodCollector implements TaskListener {
        private final StringBuilder methods;
        private final int[] counts;
        private final Elements elements;

        MethodCollector(StringBuilder methods, int[] counts, Elements elements) {
            this.methods = methods;
            this.counts = counts;
            this.elements = elements;
        }

        @Override
        public void finished(TaskEvent e) {
            if (e.getKind() == TaskEvent.Kind.ANALYZE && e.getTypeElement() != null) {
                collect(e.getTypeElement(), shadows(e.getTypeElement(), e.getCompilationUnit()));
            }
        }

        private boolean shadows(TypeElement type, CompilationUnitTree unit) {
            List<String> packages = new ArrayList<>(List.of("java.lang"));
            if (unit != null) {
                for (ImportTree i : unit.getImports()) {
                    String name = i.getQualifiedIdentifier().toString();
                    if (!i.isStatic() && name.endsWith(".*")) packages.add(name.substring(0, name.length() - 2));
                }
            }
            for (String p : packages) {
                if (elements.getTypeElement(p + "." + type.getSimpleName()) != null) return true;
            }
            return false;
        }

        private void collect(TypeElement type, boolean shadows) {
            for (Element member : type.getEnclosedElements()) {
                if (member.getKind() == ElementKind.METHOD && counts[1]++ < MAX_METHODS) {
                    ExecutableElement method = (ExecutableElement) member;
                    if (methods.length() > 0) methods.append(',');
                    methods.append('{');
                    FeedloopLauncher.field(methods, "class", type.getQualifiedName().toString()).append(',');
                    FeedloopLauncher.field(methods, "name", method.getSimpleName().toString()).append(',');
                    FeedloopLauncher.field(methods, "returns", method.getReturnType().toString()).append(',');
                    methods.append("\"static\":").append(method.getModifiers().contains(Modifier.STATIC)).append(',');
                    methods.append("\"private\":").append(method.getModifiers().contains(Modifier.PRIVATE)).append(',');
                    methods.append("\"varargs\":").append(method.isVarArgs()).append(',');
                    methods.append("\"shadowsJdk\":").append(shadows).append(',');
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
                    collect((TypeElement) member, false);
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
