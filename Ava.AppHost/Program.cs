using Ava.AppHost.Infrastructure;

var builder = DistributedApplication.CreateBuilder(args);

AvaInfrastructure infrastructure;
try
{
    // Postgres (database "ava") and Redis ("cache"): containers where an engine answers, local executables otherwise.
    infrastructure = builder.AddAvaInfrastructure();
}
catch (InfrastructureUnavailableException exception)
{
    Console.Error.WriteLine(exception.Message);
    return 1;
}

var (database, cache) = infrastructure;

var migrations = builder.AddProject<Projects.Ava_MigrationService>("migrations")
    .WithReference(database)
    .WaitFor(database);

builder.AddProject<Projects.Ava_WebhookApi>("webhookapi")
    .WithHttpHealthCheck("/health")
    .WithReference(database)
    .WithReference(cache)
    .WaitFor(cache)
    .WaitForCompletion(migrations);

builder.AddProject<Projects.Ava_MessagesApi>("messagesapi")
    .WithHttpHealthCheck("/health")
    .WithReference(database)
    .WithReference(cache)
    .WaitFor(cache)
    .WaitForCompletion(migrations);

builder.Build().Run();
return 0;
