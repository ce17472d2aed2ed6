using Ava.MessagesApi;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddMessagesApiServices();

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();

app.MapDefaultEndpoints();

app.Run();
