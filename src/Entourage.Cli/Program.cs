using Entourage.Cli;
using Entourage.Cli.Infrastructure;

return await EntourageCli.RunAsync(args, CliEnvironment.FromProcess());
