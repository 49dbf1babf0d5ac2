namespace Entourage.Cli.Infrastructure;

/// <summary>Process exit codes, documented in docs/cli.md; scripts branch on them.</summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>Anything else went wrong (a server fault, a failed task the command waited for).</summary>
    public const int Error = 1;

    /// <summary>The command line or the request was invalid (parse error, 400/422 from the server).</summary>
    public const int Usage = 2;

    /// <summary>The org, team, agent, task… does not exist (404).</summary>
    public const int NotFound = 3;

    /// <summary>The request conflicts with the current state (409: duplicate slug, illegal transition).</summary>
    public const int Conflict = 4;

    /// <summary>No server answered at the URL.</summary>
    public const int Unreachable = 5;

    /// <summary>Interrupted by Ctrl-C before the command finished (commands that detach return <see cref="Ok"/>).</summary>
    public const int Interrupted = 130;
}
