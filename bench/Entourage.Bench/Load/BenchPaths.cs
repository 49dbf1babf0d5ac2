namespace Entourage.Bench.Load;

/// <summary>Where the builds this benchmark launches live: found from the repository root and this build's configuration.</summary>
public static class BenchPaths
{
    /// <summary>bin/{Configuration}/{tfm} of whatever assembly hosts this code (the bench, or the test project).</summary>
    private static DirectoryInfo Bin => new(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));

    public static string Configuration => Bin.Parent!.Name;

    public static string Tfm => Bin.Name;

    public static string RepoRoot
    {
        get
        {
            for (var d = Bin; d is not null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "Entourage.slnx"))) return d.FullName;
            throw new InvalidOperationException($"No Entourage.slnx above {AppContext.BaseDirectory}.");
        }
    }

    public static string ServerDll => Path.Combine(RepoRoot, "src", "Entourage.Server", "bin", Configuration, Tfm, "Entourage.Server.dll");

    public static string FakeAgentDll => Path.Combine(RepoRoot, "tests", "FakeAgent", "bin", Configuration, Tfm, "FakeAgent.dll");

    public static string DotnetHost
    {
        get
        {
            if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } p && File.Exists(p)) return p;
            if (Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet") return self;
            foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
            {
                var candidate = Path.Combine(dir, "dotnet");
                if (dir.Length > 0 && File.Exists(candidate)) return candidate;
            }
            if (Environment.GetEnvironmentVariable("DOTNET_ROOT") is { Length: > 0 } root && File.Exists(Path.Combine(root, "dotnet")))
                return Path.Combine(root, "dotnet");
            throw new InvalidOperationException("dotnet is not on PATH.");
        }
    }

    public static string? Curl => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
        .Where(d => d.Length > 0).Select(d => Path.Combine(d, "curl")).FirstOrDefault(File.Exists);
}
