using Ava.AppHost.Infrastructure;
using Ava.AppHost.WhatsApp;

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

var (database, cache, _) = infrastructure;

var migrations = builder.AddProject<Projects.Ava_MigrationService>("migrations")
    .WithReference(database)
    .WaitFor(database);

// Meta's webhook; talks to the real Graph API when a token is configured, to the simulator otherwise.
builder.AddProject<Projects.Ava_WebhookApi>("webhookapi")
    .WithHttpHealthCheck("/health")
    .WithReference(database)
    .WithReference(cache)
    .WaitFor(cache)
    .WaitForCompletion(migrations)
    .WithWebhookSpool(infrastructure)
    .WithWhatsAppCloudApi();

builder.AddProject<Projects.Ava_MessagesApi>("messagesapi")
    .WithHttpHealthCheck("/health")
    .WithReference(database)
    .WithReference(cache)
    .WaitFor(cache)
    .WaitForCompletion(migrations);

builder.Build().Run();
return 0;
