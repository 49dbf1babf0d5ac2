// FakeAgent: a scripted agent CLI for dispatcher tests (issue #4). It is launched by the `command` adapter with
// the prompt on stdin and ENTOURAGE_* in its environment, and does what its JSON script says:
//
//   { "record_dir": "/tmp/x",            // write {turn_id}.json there: what this turn was given and when it ran
//     "steps": [ ... ],                   // default steps
//     "attempts": { "1": [ ... ] } }      // steps for a given ENTOURAGE_TURN_ATTEMPT (crash on 1, finish on 2…)
//
// Steps ({"do": …}): print {text} | usage {cost, input, output, cache_read, cache_write, session} (a Claude
// stream-json "result" line) | http {method, path, body} (REST call to ENTOURAGE_URL; {task_id}, {agent_id},
// {team_id}, {turn_id} are substituted in path and body) | sleep {ms} | hang | touch {path} | wait_file {path}
// | exit {code} | crash. A step with "with_task": true runs only in a turn that works on a task. Without a script it
// prints a Claude-style init and result and exits 0.
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

var parentAtStart = ParentPid();
var scriptPath = args.Length >= 2 && args[0] == "--script" ? args[1] : Environment.GetEnvironmentVariable("FAKE_AGENT_SCRIPT");
var script = scriptPath is null ? new JsonObject() : JsonNode.Parse(File.ReadAllText(scriptPath))!.AsObject();
var prompt = Console.IsInputRedirected ? await Console.In.ReadToEndAsync() : "";
var env = (string name) => Environment.GetEnvironmentVariable(name) ?? "";
var vars = new Dictionary<string, string>
{
    ["task_id"] = env("ENTOURAGE_TASK_ID"),
    ["agent_id"] = env("ENTOURAGE_AGENT_ID"),
    ["team_id"] = env("ENTOURAGE_TEAM_ID"),
    ["turn_id"] = env("ENTOURAGE_TURN_ID"),
};
string Fill(string s) => Regex.Replace(s, @"\{(task_id|agent_id|team_id|turn_id)\}", m => vars[m.Groups[1].Value]);

var started = DateTime.UtcNow;
Console.WriteLine(JsonSerializer.Serialize(new { type = "system", subtype = "init", session_id = "fake-" + env("ENTOURAGE_AGENT_ID") + "-" + env("ENTOURAGE_TASK_ID"), model = "fake" }));

void Record(string phase)
{
    if (script["record_dir"]?.GetValue<string>() is not { } dir) return;
    Directory.CreateDirectory(dir);
    var tags = Regex.Matches(prompt, @"\[([a-z_]+):(\d+)\]").Select(m => m.Value).Distinct().ToArray();
    var record = new JsonObject
    {
        ["turn_id"] = vars["turn_id"],
        ["agent_id"] = vars["agent_id"],
        ["task_id"] = vars["task_id"],
        ["attempt"] = env("ENTOURAGE_TURN_ATTEMPT"),
        ["cwd"] = Environment.CurrentDirectory,
        ["has_token"] = env("ENTOURAGE_AGENT_TOKEN").Length > 0,
        ["env_keys"] = new JsonArray(Environment.GetEnvironmentVariables().Keys.Cast<string>().Order().Select(k => (JsonNode)k).ToArray()),
        ["tags"] = new JsonArray(tags.Select(t => (JsonNode)t).ToArray()),
        ["started_at"] = started.ToString("O"),
        ["phase"] = phase,
        ["at"] = DateTime.UtcNow.ToString("O"),
    };
    // Written aside and renamed into place: tests poll this folder, and a reader must never see a half-written
    // record (an empty file made a review test fail to parse it).
    var temp = Path.Combine(dir, $".{vars["turn_id"]}.{phase}.{Environment.ProcessId}.tmp");
    File.WriteAllText(temp, record.ToJsonString());
    File.Move(temp, Path.Combine(dir, $"{vars["turn_id"]}.{phase}.json"), overwrite: true);
}

Record("start");
var steps = script["attempts"]?[env("ENTOURAGE_TURN_ATTEMPT")] as JsonArray ?? script["steps"] as JsonArray ?? [];
using var http = new HttpClient { BaseAddress = new Uri(env("ENTOURAGE_URL") is { Length: > 0 } u ? u : "http://localhost:8000"), Timeout = TimeSpan.FromSeconds(60) };
if (env("ENTOURAGE_AGENT_TOKEN") is { Length: > 0 } token) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
var exitCode = 0;
var printedResult = false;

foreach (var step in steps.OfType<JsonObject>())
{
    // "with_task": true skips the step in a turn that works on no task (woken by a message alone).
    if (step["with_task"]?.GetValue<bool>() == true && vars["task_id"].Length == 0) continue;
    switch (step["do"]?.GetValue<string>())
    {
        case "print":
            Console.WriteLine(Fill(step["text"]?.GetValue<string>() ?? ""));
            break;
        case "usage":
            Console.WriteLine(new JsonObject
            {
                ["type"] = "result",
                ["subtype"] = "success",
                ["is_error"] = false,
                ["session_id"] = step["session"]?.GetValue<string>() ?? "fake-session",
                ["total_cost_usd"] = step["cost"]?.GetValue<double>() ?? 0,
                ["usage"] = new JsonObject
                {
                    ["input_tokens"] = step["input"]?.GetValue<long>() ?? 0,
                    ["output_tokens"] = step["output"]?.GetValue<long>() ?? 0,
                    ["cache_read_input_tokens"] = step["cache_read"]?.GetValue<long>() ?? 0,
                    ["cache_creation_input_tokens"] = step["cache_write"]?.GetValue<long>() ?? 0,
                },
            }.ToJsonString());
            printedResult = true;
            break;
        case "http":
            var method = new HttpMethod(step["method"]?.GetValue<string>() ?? "POST");
            var req = new HttpRequestMessage(method, Fill(step["path"]!.GetValue<string>()));
            if (step["body"] is { } body) req.Content = new StringContent(Fill(body.ToJsonString()), Encoding.UTF8, "application/json");
            var res = await http.SendAsync(req);
            var text = await res.Content.ReadAsStringAsync();
            Console.WriteLine($"http {method} {req.RequestUri} -> {(int)res.StatusCode} {text}");
            if (!res.IsSuccessStatusCode && step["allow_failure"]?.GetValue<bool>() != true) { exitCode = 2; goto done; }
            break;
        case "sleep":
            await Task.Delay(step["ms"]?.GetValue<int>() ?? 100);
            break;
        case "hang":
            Console.WriteLine("hanging");
            Console.Out.Flush();
            while (!Abandoned()) await Task.Delay(500);
            return 3; // not even an end record: its folder is gone with the test

        case "touch":
            File.WriteAllText(Fill(step["path"]!.GetValue<string>()), vars["turn_id"]);
            break;
        case "wait_file":
            var path = Fill(step["path"]!.GetValue<string>());
            for (var polls = 0; !File.Exists(path); polls++)
            {
                if (polls % 25 == 24 && Abandoned()) return 3;
                await Task.Delay(20);
            }
            break;
        case "exit":
            exitCode = step["code"]?.GetValue<int>() ?? 0;
            goto done;
        case "crash":
            Console.Out.Flush();
            Environment.FailFast("FakeAgent crash step");
            break;
    }
}
done:
Record("end");
if (!printedResult && exitCode == 0)
    Console.WriteLine(JsonSerializer.Serialize(new { type = "result", subtype = "success", is_error = false, session_id = "fake-session", total_cost_usd = 0.0, usage = new { input_tokens = 0, output_tokens = 0 } }));
return exitCode;

// A test that SIGKILLs its server leaves the server's agents behind, re-parented; once the test has also cleaned
// up (its script file is gone) nothing will ever answer a hang or create an awaited file, so such an agent exits
// instead of living on (and polling) for the rest of the test run.
bool Abandoned() => ParentPid() != parentAtStart && (scriptPath is null || !File.Exists(scriptPath));

static int ParentPid()
{
    // /proc/self/stat: "pid (comm) state ppid …"; comm may contain spaces, so read after the last ')'.
    var stat = File.ReadAllText("/proc/self/stat");
    return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
}
