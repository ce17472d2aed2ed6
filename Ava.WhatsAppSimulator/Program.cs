using Ava.WhatsAppSimulator;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.ExcludeFromTracing(SimulatorControlEndpoints.IsChatPagePolling);
builder.Services.AddOptions<SimulatorOptions>().Bind(builder.Configuration).ValidateDataAnnotations().ValidateOnStart();
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<GraphApiState>();
builder.Services.AddSingleton<MediaState>();
builder.Services.AddSingleton<WebhookDeliverer>();
builder.Services.AddSingleton<StatusReporter>();
// Meta delivers once per POST; a retry here would hide what Ava answered.
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is marked for evaluation.
builder.Services.AddHttpClient(SimulatorControlEndpoints.WebhookClientName).RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
builder.Services.AddProblemDetails();

var app = builder.Build();

app.UseExceptionHandler();
app.UseDefaultFiles();
app.UseStaticFiles();
app.MapGraphApi();
app.MapSimulatorControl();
app.MapMediaControl();
app.MapDefaultEndpoints();

app.Run();
